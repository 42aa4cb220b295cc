// The little the eBPF rung needs from /proc about a live process: exe, argv, cwd, parent and
// start time. Every function takes the /proc root so that tests can point it at a fixture tree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/connection.h"

namespace tsnitch::bpf {

struct StatFields {
    std::string comm;
    int ppid = 0;
    uint64_t start_time = 0;  // clock ticks since boot
};

// /proc/PID/stat; comm may contain spaces and parentheses, so it ends at the last ')'.
std::optional<StatFields> parse_stat(std::string_view text);

// "a\0b\0c\0" -> {"a", "b", "c"}
std::vector<std::string> split_cmdline(std::string_view text);

// pid, ppid, comm, path (exe), args, cwd, start_time of a live process; nullopt when it is gone
// (a zombie counts as gone: its exe can no longer be read).
std::optional<ProcessInfo> read_live_process(const std::string& proc_root, int pid);

}  // namespace tsnitch::bpf
