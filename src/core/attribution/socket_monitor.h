// The socket table refreshed on a thread of its own, so that no front end waits for /proc or
// netlink: the Daemon runs one while some front end subscribed to the table.
#pragma once

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "core/attribution/socket_table.h"
#include "core/unique_fd.h"

namespace tsnitch {

// Runs SocketTable::refresh() on its own thread every `interval` (and at once when the opened
// process changes), so that the UI never waits for /proc or netlink. wake_fd() is readable while
// a snapshot is waiting for take().
class SocketMonitor {
  public:
    // `focus`, `all_fds`: as set_focus(), from the first refresh on.
    SocketMonitor(SocketTable table, std::chrono::milliseconds interval,
                  std::optional<int> focus = std::nullopt, bool all_fds = false);
    ~SocketMonitor();
    SocketMonitor(const SocketMonitor&) = delete;
    SocketMonitor& operator=(const SocketMonitor&) = delete;

    int wake_fd() const { return wake_.get(); }
    // The newest snapshot since the last call (nullptr when none), and the refresh's error if it
    // failed (empty when not).
    std::shared_ptr<const SocketTableSnapshot> take(std::string* error = nullptr);
    // The process whose sockets each snapshot carries in full; refreshes now.
    void set_focus(std::optional<int> pid, bool all_fds);
    // While paused (the view is not on screen) no refresh runs.
    void set_paused(bool paused);
    std::chrono::milliseconds interval() const { return interval_; }

  private:
    void loop();

    SocketTable table_;
    std::chrono::milliseconds interval_;
    UniqueFd wake_;
    std::mutex mu_;
    std::condition_variable cv_;
    bool stop_ = false;
    bool now_ = true;
    bool paused_ = false;
    std::optional<int> focus_;
    bool all_fds_ = false;
    std::shared_ptr<const SocketTableSnapshot> latest_;
    std::string error_;
    std::thread thread_;
};

}  // namespace tsnitch
