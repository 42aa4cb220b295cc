#include "core/log_line.h"

#include <sys/stat.h>
#include <unistd.h>

#include <charconv>
#include <cstdlib>

namespace tsnitch {

int syslog_priority(LogLevel level) {
    switch (level) {
        case LogLevel::debug:
            return 7;
        case LogLevel::info:
            return 6;
        case LogLevel::warning:
            return 4;
        case LogLevel::error:
            return 3;
    }
    return 6;
}

bool journal_stream_matches(std::string_view journal_stream, unsigned long long dev,
                            unsigned long long ino) {
    const size_t colon = journal_stream.find(':');
    if (colon == std::string_view::npos) return false;
    auto number = [](std::string_view s, unsigned long long& out) {
        auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
        return !s.empty() && ec == std::errc() && end == s.data() + s.size();
    };
    unsigned long long d = 0, i = 0;
    return number(journal_stream.substr(0, colon), d) &&
           number(journal_stream.substr(colon + 1), i) && d == dev && i == ino;
}

LogStyle stderr_log_style() {
    const char* env = std::getenv("JOURNAL_STREAM");
    struct stat st {};
    if (env == nullptr || ::fstat(STDERR_FILENO, &st) != 0) return LogStyle::terminal;
    return journal_stream_matches(env, st.st_dev, st.st_ino) ? LogStyle::journal
                                                             : LogStyle::terminal;
}

std::string stderr_log_line(LogStyle style, LogLevel level, std::string_view text) {
    if (style == LogStyle::terminal) return "tsnitch: " + std::string(text) + "\n";
    const std::string prefix = "<" + std::to_string(syslog_priority(level)) + ">";
    std::string out;
    out.reserve(text.size() + prefix.size() + 1);
    size_t start = 0;
    for (;;) {
        const size_t nl = text.find('\n', start);
        out += prefix;
        out += text.substr(start, nl == std::string_view::npos ? nl : nl - start);
        out += '\n';
        if (nl == std::string_view::npos || nl + 1 == text.size()) break;
        start = nl + 1;
    }
    return out;
}

}  // namespace tsnitch
