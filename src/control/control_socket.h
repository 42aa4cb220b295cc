// The control socket's file (DESIGN.md §10): the daemon's listening socket with its permissions
// and the lock that says "a daemon runs", and the client's way in.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

#include "core/result.h"
#include "core/unique_fd.h"

namespace tsnitch {

// The listening socket at Control.Socket. While it lives, PATH.lock is locked (flock), so that a
// second daemon knows one runs; a socket file left by a daemon that died (the lock is free) is
// replaced. Mode 0600, or 0660 and group `group` when one is named. The parent directory is made
// 0755 when missing. The destructor removes the socket file.
class ControlListener {
  public:
    static Result<ControlListener> open(const std::string& path, const std::string& group);
    ControlListener(ControlListener&&) noexcept = default;
    ControlListener& operator=(ControlListener&&) noexcept = default;
    ~ControlListener();

    int fd() const { return fd_.get(); }
    const std::string& path() const { return path_; }
    // The gid of Control.Group; nullopt when only root may attach.
    std::optional<gid_t> group() const { return group_; }

  private:
    ControlListener() = default;

    UniqueFd lock_;
    UniqueFd fd_;
    std::string path_;
    std::optional<gid_t> group_;
};

// Connects to the daemon's socket (blocking connect, then non-blocking). Errors say what to do:
// "no tsnitch daemon listens on /run/tsnitch/control.sock (start one: tsnitch run --headless)".
Result<UniqueFd> connect_control_socket(const std::string& path);

// True when a daemon holds the lock of `path` (a live daemon, whether or not we may attach).
bool control_daemon_running(const std::string& path);

}  // namespace tsnitch
