// Where the cgroup v2 hierarchy is mounted: the BPF socket programs attach to its root so that
// they see every socket of the machine.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"

namespace tsnitch::bpf {

// The mount point of the cgroup2 file system in a /proc/PID/mountinfo text. A mount of the
// hierarchy's root ("/") is preferred over a mount of a sub-cgroup. Octal escapes (\040) in the
// mount point are decoded.
Result<std::string> cgroup2_mount_point(std::string_view mountinfo);

// cgroup2_mount_point of /proc/self/mountinfo (under proc_root); when this mount namespace has
// none (`ip netns exec` hides it), the one of init, reached through /proc/1/root.
Result<std::string> find_cgroup2_root(const std::string& proc_root = "/proc");

}  // namespace tsnitch::bpf
