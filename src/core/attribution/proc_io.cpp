#include "core/attribution/proc_io.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <memory>

#include "core/attribution/proc_parse.h"

namespace tsnitch {

namespace {

using Dir = UniqueDir;

std::optional<int> as_number(const char* name) {
    int n = 0;
    const size_t len = std::strlen(name);
    auto [p, ec] = std::from_chars(name, name + len, n);
    if (ec != std::errc() || p != name + len || n <= 0) return std::nullopt;
    return n;
}
}  // namespace

Result<UniqueFd> open_read_only(const std::string& path) {
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return errno_error("opening", path);
    return fd;
}

Result<std::vector<int>> list_pids(const std::string& proc_root) {
    Dir d(opendir(proc_root.c_str()));
    if (!d) return errno_error("listing", proc_root);
    std::vector<int> pids;
    while (dirent* e = readdir(d.get())) {
        if (auto pid = as_number(e->d_name)) pids.push_back(*pid);
    }
    return pids;
}

Result<std::vector<SocketFd>> list_socket_fds(const std::string& proc_root, int pid) {
    const std::string dir = proc_root + "/" + std::to_string(pid) + "/fd";
    Dir d(opendir(dir.c_str()));
    if (!d) return errno_error("listing", dir);
    std::vector<SocketFd> fds;
    const int dfd = dirfd(d.get());
    while (dirent* e = readdir(d.get())) {
        auto fd = as_number(e->d_name);
        if (!fd && std::strcmp(e->d_name, "0") == 0) fd = 0;
        if (!fd) continue;
        char buf[64];
        // readlinkat on the open directory: no path walk per fd.
        const ssize_t n = ::readlinkat(dfd, e->d_name, buf, sizeof buf);
        if (n <= 0) continue;  // closed meanwhile, or not a link
        if (auto inode = parse_socket_link(std::string_view(buf, static_cast<size_t>(n))))
            fds.push_back({*fd, *inode});
    }
    std::sort(fds.begin(), fds.end(),
              [](const SocketFd& a, const SocketFd& b) { return a.fd < b.fd; });
    return fds;
}

}  // namespace tsnitch
