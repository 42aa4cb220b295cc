#include <cstdarg>
#include <cstdio>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "core/log_line.h"
#include "core/text.h"

namespace tsnitch::cli {

// Messages carry names from outside (files, rules, values): escaped here, whatever the caller did,
// so that no message can drive the terminal.
void print_error(const char* fmt, ...) {
    va_list ap, again;
    va_start(ap, fmt);
    va_copy(again, ap);
    const int n = std::vsnprintf(nullptr, 0, fmt, ap);
    va_end(ap);
    std::vector<char> text(n > 0 ? static_cast<size_t>(n) + 1 : 1, '\0');
    if (n > 0) std::vsnprintf(text.data(), text.size(), fmt, again);
    va_end(again);
    // Under systemd the journal gets the error priority instead of the "tsnitch: " prefix.
    static const LogStyle style = stderr_log_style();
    std::fputs(stderr_log_line(style, LogLevel::error, printable_text(text.data())).c_str(),
               stderr);
}

}  // namespace tsnitch::cli
