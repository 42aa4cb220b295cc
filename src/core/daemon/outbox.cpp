#include "core/daemon/outbox.h"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cstdint>

namespace tsnitch {

Outbox::Outbox(size_t limit)
    : limit_(limit == 0 ? 1 : limit), wake_(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) {}

void Outbox::wake() {
    const uint64_t one = 1;
    // EAGAIN: the counter is already non-zero, the front end is woken either way.
    [[maybe_unused]] const ssize_t n = ::write(wake_.get(), &one, sizeof one);
}

bool Outbox::push(DaemonEvent e) {
    std::lock_guard lock(mu_);
    if (closed_) return false;
    if (std::holds_alternative<StatusChanged>(e) && !events_.empty() &&
        std::holds_alternative<StatusChanged>(events_.back())) {
        events_.back() = std::move(e);
        return true;
    }
    if (events_.size() >= limit_) {
        events_.clear();
        events_.push_back(Stopping{"this front end fell behind by more than " +
                                   std::to_string(limit_) + " events and was detached"});
        closed_ = true;
        wake();
        return false;
    }
    events_.push_back(std::move(e));
    wake();
    return true;
}

void Outbox::close(std::string reason) {
    std::lock_guard lock(mu_);
    if (closed_) return;
    events_.push_back(Stopping{std::move(reason)});
    closed_ = true;
    wake();
}

bool Outbox::closed() const {
    std::lock_guard lock(mu_);
    return closed_;
}

std::vector<DaemonEvent> Outbox::drain() {
    std::lock_guard lock(mu_);
    uint64_t count;
    while (::read(wake_.get(), &count, sizeof count) > 0) {
    }
    std::vector<DaemonEvent> out(std::make_move_iterator(events_.begin()),
                                 std::make_move_iterator(events_.end()));
    events_.clear();
    return out;
}

}  // namespace tsnitch
