// Parsers for the text of /proc files. Pure functions over string_views: the readers in
// inode_index.cpp, process_reader.cpp and proc_net.cpp feed them, the tests and fuzzers too.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/attribution/socket_entry.h"
#include "core/connection.h"

namespace tsnitch {

// "socket:[12345]" (an fd's readlink) -> 12345; anything else nullopt.
std::optional<uint64_t> parse_socket_link(std::string_view link);

// The fields of /proc/PID/stat that attribution needs.
struct ProcStat {
    int pid = 0;
    std::string comm;  // between the first '(' and the last ')': comm may hold both
    char state = '?';  // R S D Z T ...; 'Z' for a zombie
    int ppid = 0;
    unsigned flags = 0;       // PF_KTHREAD (0x00200000) marks a kernel thread
    uint64_t start_time = 0;  // clock ticks after boot
};
std::optional<ProcStat> parse_proc_stat(std::string_view text);

// The effective uid from the "Uid:" line of /proc/PID/status.
std::optional<uint32_t> parse_status_uid(std::string_view text);

// /proc/PID/cmdline: NUL-separated arguments (a trailing NUL or none).
std::vector<std::string> split_cmdline(std::string_view text);

// One line of /proc/net/{tcp,udp,udplite}{,6}; nullopt for the header and malformed lines.
std::optional<InetSocket> parse_proc_net_line(std::string_view line, Protocol protocol,
                                              Family family);

}  // namespace tsnitch
