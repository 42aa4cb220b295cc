// Where the cgroup v2 hierarchy is mounted: the BPF socket programs attach to its root so that
// they see every socket of the machine.
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "core/unique_fd.h"

namespace tsnitch::bpf {

// The mount point of the cgroup2 file system in a /proc/PID/mountinfo text. A mount of the
// hierarchy's root ("/") is preferred over a mount of a sub-cgroup. Octal escapes (\040) in the
// mount point are decoded.
Result<std::string> cgroup2_mount_point(std::string_view mountinfo);

// cgroup2_mount_point of /proc/self/mountinfo (under proc_root).
Result<std::string> find_cgroup2_root(const std::string& proc_root = "/proc");

// An open directory of the cgroup v2 root, for attaching programs. Closes itself.
class CgroupRoot {
  public:
    // The mount found in mountinfo; when this mount namespace shows none (`ip netns exec`
    // remounts /sys and hides it), a mount made for the moment of opening it: mounted on a
    // temporary directory, opened, and detached again at once (the open directory keeps working).
    static Result<CgroupRoot> open(const std::string& proc_root = "/proc");
    CgroupRoot(CgroupRoot&&) noexcept = default;
    CgroupRoot& operator=(CgroupRoot&&) = delete;

    int fd() const { return fd_.get(); }
    // The mount point, or "cgroup2 (mounted privately)".
    const std::string& where() const { return where_; }

  private:
    CgroupRoot(UniqueFd fd, std::string where) : fd_(std::move(fd)), where_(std::move(where)) {}
    UniqueFd fd_;
    std::string where_;
};

}  // namespace tsnitch::bpf
