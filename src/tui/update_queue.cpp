#include "tui/update_queue.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>

namespace tsnitch::tui {

UpdateQueue::UpdateQueue(size_t max_events)
    : fd_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)),
      max_events_(max_events == 0 ? 1 : max_events) {}

UpdateQueue::~UpdateQueue() {
    if (fd_ >= 0) ::close(fd_);
}

void UpdateQueue::wake() {
    const uint64_t one = 1;
    // EAGAIN means the counter is already non-zero: the UI is woken either way.
    [[maybe_unused]] const ssize_t n = ::write(fd_, &one, sizeof one);
}

void UpdateQueue::add_event(DecisionEvent e) {
    std::lock_guard lock(mu_);
    auto& events = pending_update_.events;
    if (events.size() >= max_events_) {
        // Drop the older half at once: amortised O(1) per event while the UI is stalled.
        const size_t drop = std::max<size_t>(1, events.size() / 2);
        events.erase(events.begin(), events.begin() + static_cast<long>(drop));
        dropped_ += drop;
    }
    events.push_back(std::move(e));
    wake();
}

void UpdateQueue::add_log(LogLine line) {
    std::lock_guard lock(mu_);
    auto& log = pending_update_.log;
    if (log.size() >= max_events_) {
        log.erase(log.begin(), log.begin() + static_cast<long>(log.size() / 2 + 1));
    }
    log.push_back(std::move(line));
    wake();
}

void UpdateQueue::set_pending(std::vector<PendingPrompt> pending) {
    std::lock_guard lock(mu_);
    pending_update_.pending = std::move(pending);
    wake();
}

void UpdateQueue::set_rules(std::vector<RuleSummary> rules) {
    std::lock_guard lock(mu_);
    pending_update_.rules = std::move(rules);
    wake();
}

void UpdateQueue::set_status(EngineStatus status) {
    std::lock_guard lock(mu_);
    pending_update_.status = std::move(status);
    wake();
}

void UpdateQueue::stop() {
    std::lock_guard lock(mu_);
    pending_update_.stop = true;
    wake();
}

BackendUpdate UpdateQueue::take() {
    std::lock_guard lock(mu_);
    uint64_t count;
    while (::read(fd_, &count, sizeof count) > 0) {
    }
    BackendUpdate out = std::move(pending_update_);
    pending_update_ = BackendUpdate{};
    return out;
}

uint64_t UpdateQueue::dropped() const {
    std::lock_guard lock(mu_);
    return dropped_;
}

}  // namespace tsnitch::tui
