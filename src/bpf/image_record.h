// A program image as the exec tracepoint recorded it (struct tsn_image), turned into what user
// space shows: the executable's path as the kernel names it and its argv. Pure functions over the
// map record, so that tests can build records by hand; seeding builds records the same way from
// /proc for processes that started before tsnitch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/tsnitch_bpf.h"

namespace tsnitch::bpf {

// What a path that is not a host path starts with (as getcwd(3) says for a directory outside
// the caller's root): it can never match a rule written for an absolute host path.
inline constexpr std::string_view kUnreachablePrefix = "(unreachable)";

struct ImageRecord {
    tsn_exe_id exe{};
    uint64_t exec_ns = 0;
    uint32_t tgid = 0;
    uint32_t ppid = 0;
    // Absolute as the kernel names it ("/usr/bin/curl", "/memfd:x (deleted)", "/old (deleted)"),
    // "(unreachable)/usr/bin/x" inside another mount namespace, nullopt when the walk did not
    // finish (a path deeper or longer than the record holds).
    std::optional<std::string> path;
    std::vector<std::string> args;
    bool args_truncated = false;
};

ImageRecord image_from_map(const tsn_image& image);

// The kernel path of a recorded image; nullopt when incomplete.
std::optional<std::string> image_path(const tsn_image& image);

// Fills the path fields of `image` from a /proc/PID/exe link (a " (deleted)" suffix marks the
// file removed). `reachable` says whether the process's root is tsnitch's own. Returns false when
// the path does not fit in the record (then marked incomplete).
bool set_image_path(tsn_image& image, std::string_view exe_link, bool reachable);

// Fills argv from /proc/PID/cmdline's bytes (cut at TSN_ARGS_MAX, as the exec tracepoint does).
void set_image_args(tsn_image& image, std::string_view cmdline);

}  // namespace tsnitch::bpf
