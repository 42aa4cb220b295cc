#include "bpf/process_reader.h"

#include <unistd.h>

#include <charconv>
#include <fstream>
#include <sstream>
#include <vector>

namespace tsnitch::bpf {

namespace {

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

std::optional<std::string> read_link(const std::string& path) {
    char buf[4096];
    const ssize_t n = ::readlink(path.c_str(), buf, sizeof(buf));
    if (n <= 0) return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
}

}  // namespace

std::optional<StatFields> parse_stat(std::string_view text) {
    const size_t open = text.find('(');
    const size_t close = text.rfind(')');
    if (open == std::string_view::npos || close == std::string_view::npos || close < open) {
        return std::nullopt;
    }
    StatFields f;
    f.comm = std::string(text.substr(open + 1, close - open - 1));
    // Fields after comm, counted from 3 (state) as in proc(5): ppid is 4, starttime is 22.
    std::vector<std::string_view> rest;
    size_t i = close + 1;
    while (i < text.size()) {
        while (i < text.size() && (text[i] == ' ' || text[i] == '\n'))
            ++i;
        size_t j = i;
        while (j < text.size() && text[j] != ' ' && text[j] != '\n')
            ++j;
        if (j > i) rest.push_back(text.substr(i, j - i));
        i = j;
    }
    if (rest.size() < 20) return std::nullopt;
    auto num = [](std::string_view s, auto& out) {
        auto r = std::from_chars(s.data(), s.data() + s.size(), out);
        return r.ec == std::errc() && r.ptr == s.data() + s.size();
    };
    if (!num(rest[1], f.ppid) || !num(rest[19], f.start_time)) return std::nullopt;
    return f;
}

std::vector<std::string> split_cmdline(std::string_view text) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < text.size()) {
        size_t j = text.find('\0', i);
        if (j == std::string_view::npos) j = text.size();
        out.emplace_back(text.substr(i, j - i));
        i = j + 1;
    }
    return out;
}

std::optional<ProcessInfo> read_live_process(const std::string& proc_root, int pid) {
    const std::string dir = proc_root + "/" + std::to_string(pid);
    auto exe = read_link(dir + "/exe");
    if (!exe) return std::nullopt;
    auto stat_text = read_text(dir + "/stat");
    if (!stat_text) return std::nullopt;
    auto stat = parse_stat(*stat_text);
    if (!stat) return std::nullopt;
    ProcessInfo p;
    p.pid = pid;
    p.ppid = stat->ppid;
    p.comm = stat->comm;
    p.start_time = stat->start_time;
    p.path = *exe;
    if (auto cmdline = read_text(dir + "/cmdline")) p.args = split_cmdline(*cmdline);
    if (auto cwd = read_link(dir + "/cwd")) p.cwd = *cwd;
    return p;
}

}  // namespace tsnitch::bpf
