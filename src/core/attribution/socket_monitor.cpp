#include "core/attribution/socket_monitor.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace tsnitch {

SocketMonitor::SocketMonitor(SocketTable table, std::chrono::milliseconds interval,
                             std::optional<int> focus, bool all_fds)
    : table_(std::move(table)),
      interval_(interval),
      wake_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK)),
      focus_(focus),
      all_fds_(all_fds),
      thread_([this] { loop(); }) {}

SocketMonitor::~SocketMonitor() {
    {
        std::lock_guard lock(mu_);
        stop_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void SocketMonitor::loop() {
    std::unique_lock lock(mu_);
    while (!stop_) {
        const auto focus = focus_;
        const bool all = all_fds_;
        now_ = false;
        lock.unlock();
        auto r = table_.refresh(focus, all);
        lock.lock();
        if (r) {
            latest_ = std::make_shared<const SocketTableSnapshot>(std::move(*r));
            error_.clear();
        } else {
            error_ = r.error().message;
        }
        const uint64_t one = 1;
        (void)!::write(wake_.get(), &one, sizeof one);
        cv_.wait_for(lock, interval_, [this] { return stop_ || now_; });
        cv_.wait(lock, [this] { return stop_ || !paused_; });
    }
}

std::shared_ptr<const SocketTableSnapshot> SocketMonitor::take(std::string* error) {
    uint64_t n = 0;
    (void)!::read(wake_.get(), &n, sizeof n);
    std::lock_guard lock(mu_);
    if (error) *error = error_;
    return std::exchange(latest_, nullptr);
}

void SocketMonitor::set_paused(bool paused) {
    {
        std::lock_guard lock(mu_);
        if (paused_ == paused) return;
        paused_ = paused;
        now_ = !paused;  // back in view: fresh numbers at once
    }
    cv_.notify_all();
}

void SocketMonitor::set_focus(std::optional<int> pid, bool all_fds) {
    {
        std::lock_guard lock(mu_);
        focus_ = pid;
        all_fds_ = all_fds;
        now_ = true;
    }
    cv_.notify_all();
}

}  // namespace tsnitch
