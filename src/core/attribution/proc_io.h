// Small system-call wrappers for reading /proc (or a fixture tree that stands in for it); whole
// files and links are read with core/fs.h.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "core/fs.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace tsnitch {

// Opens `path` read-only (O_CLOEXEC); the error names the path.
Result<UniqueFd> open_read_only(const std::string& path);

// The numeric entries of `proc_root`: the pids, in directory order.
Result<std::vector<int>> list_pids(const std::string& proc_root);

struct SocketFd {
    int fd = 0;
    uint64_t inode = 0;
};
// The socket fds of one process, found by readlink of `proc_root`/PID/fd/* (no stat), in fd order.
Result<std::vector<SocketFd>> list_socket_fds(const std::string& proc_root, int pid);

}  // namespace tsnitch
