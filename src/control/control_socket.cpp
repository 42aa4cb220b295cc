#include "control/control_socket.h"
#include "core/text.h"

#include <fcntl.h>
#include <grp.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "core/fs.h"

namespace tsnitch {

namespace {

Result<sockaddr_un> unix_address(const std::string& path) {
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    if (path.empty() || path.size() >= sizeof a.sun_path)
        return make_error("Control.Socket '" + path + "': expected a path of 1.." +
                          std::to_string(sizeof a.sun_path - 1) + " bytes");
    std::memcpy(a.sun_path, path.data(), path.size());
    return a;
}

std::string lock_path(const std::string& path) {
    return path + ".lock";
}

Result<gid_t> group_id(const std::string& name) {
    std::vector<char> buf(16384);
    group g{};
    group* found = nullptr;
    const int rc = getgrnam_r(name.c_str(), &g, buf.data(), buf.size(), &found);
    if (rc != 0) return make_error("Control.Group '" + name + "': " + errno_text(rc), rc);
    if (!found) return make_error("Control.Group '" + name + "': no such group");
    return found->gr_gid;
}

Status make_parent_directory(const std::string& path) {
    const size_t slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) return Ok{};
    // 0755 whatever the umask, parents included (core/fs); an existing directory keeps its mode.
    return create_directories(path.substr(0, slash), 0755);
}

}  // namespace

Result<ControlListener> ControlListener::open(const std::string& path, const std::string& group) {
    auto addr = unix_address(path);
    if (!addr) return addr.error();
    ControlListener l;
    l.path_ = path;
    if (!group.empty()) {
        auto gid = group_id(group);
        if (!gid) return gid.error();
        l.group_ = *gid;
    }
    if (auto made = make_parent_directory(path); !made) return made.error();

    const std::string lp = lock_path(path);
    l.lock_ = UniqueFd(::open(lp.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
    if (!l.lock_) return make_error("opening " + lp + ": " + errno_text(errno), errno);
    if (::flock(l.lock_.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno == EWOULDBLOCK)
            return make_error("a tsnitch daemon already runs (" + path + ")", EADDRINUSE);
        return make_error("locking " + lp + ": " + errno_text(errno), errno);
    }

    // We hold the lock: whatever is at the path was left by a daemon that is gone. Only a socket
    // is removed; anything else there is the operator's, and an error.
    struct stat st {};
    if (::lstat(path.c_str(), &st) == 0) {
        if (!S_ISSOCK(st.st_mode))
            return make_error("Control.Socket " + path + ": exists and is not a socket");
        if (::unlink(path.c_str()) != 0)
            return make_error("removing the stale socket " + path + ": " + errno_text(errno),
                              errno);
    }

    l.fd_ = UniqueFd(::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!l.fd_) return make_error("socket(AF_UNIX): " + errno_text(errno), errno);
    if (::bind(l.fd_.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0)
        return make_error("binding " + path + ": " + errno_text(errno), errno);
    // Permissions before listen(): until then a connect() is refused, so no client ever reaches a
    // socket with the umask's mode.
    if (l.group_) {
        if (::chown(path.c_str(), ::geteuid(), *l.group_) != 0 || ::chmod(path.c_str(), 0660) != 0)
            return make_error("setting group and mode of " + path + ": " + errno_text(errno),
                              errno);
    } else if (::chmod(path.c_str(), 0600) != 0) {
        return make_error("setting the mode of " + path + ": " + errno_text(errno), errno);
    }
    if (::listen(l.fd_.get(), 16) != 0)
        return make_error("listening on " + path + ": " + errno_text(errno), errno);
    return l;
}

ControlListener::~ControlListener() {
    // A moved-from listener owns nothing; the socket file goes while the lock is still held.
    if (fd_) ::unlink(path_.c_str());
}

Result<UniqueFd> connect_control_socket(const std::string& path) {
    auto addr = unix_address(path);
    if (!addr) return addr.error();
    UniqueFd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    if (!fd) return make_error("socket(AF_UNIX): " + errno_text(errno), errno);
    if (::connect(fd.get(), reinterpret_cast<const sockaddr*>(&*addr), sizeof *addr) != 0) {
        const int e = errno;
        if (e == ENOENT || e == ECONNREFUSED)
            return make_error(
                "no tsnitch daemon listens on " + path + " (start one: tsnitch run --headless)", e);
        if (e == EACCES)
            return make_error(path +
                                  ": permission denied (root, or a member of Control.Group, "
                                  "may attach)",
                              e);
        return make_error("connecting to " + path + ": " + errno_text(e), e);
    }
    const int flags = ::fcntl(fd.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0)
        return make_error("fcntl(O_NONBLOCK): " + errno_text(errno), errno);
    return fd;
}

bool control_daemon_running(const std::string& path) {
    UniqueFd lock(::open(lock_path(path).c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
    if (!lock) return false;
    if (::flock(lock.get(), LOCK_SH | LOCK_NB) == 0) return false;  // nobody holds it
    return errno == EWOULDBLOCK;
}

}  // namespace tsnitch
