#include "core/engine/observer_relay.h"

namespace tsnitch {

ObserverRelay::ObserverRelay(const std::vector<EngineObserver*>& observers, RelayOptions options)
    : observers_(observers), options_(options) {}

ObserverRelay::~ObserverRelay() {
    stop();
}

void ObserverRelay::start() {
    std::lock_guard lock(mu_);
    if (running_ || stopping_) return;
    running_ = true;
    thread_ = std::thread([this] { run(); });
}

void ObserverRelay::stop() {
    std::unique_lock lock(mu_);
    stopping_ = true;
    if (thread_.joinable()) {
        lock.unlock();
        work_cv_.notify_all();
        thread_.join();  // it delivers what is queued before it ends
        lock.lock();
    }
    deliver_here(lock);
}

void ObserverRelay::flush() {
    std::unique_lock lock(mu_);
    if (std::this_thread::get_id() == thread_.get_id()) return;  // an observer: not on itself
    if (!running_) {
        deliver_here(lock);
        return;
    }
    const uint64_t want = pushed_;
    ++flushing_;
    lingering_ = false;
    work_cv_.notify_one();
    room_cv_.wait(lock, [&] { return delivered_ >= want; });
    --flushing_;
}

void ObserverRelay::deliver_here(std::unique_lock<std::mutex>& lock) {
    while (!queue_.empty()) {
        Note note = std::move(queue_.front());
        queue_.pop_front();
        lock.unlock();
        deliver(note);
        lock.lock();
        ++delivered_;
    }
    room_cv_.notify_all();
}

void ObserverRelay::push(Note note, bool urgent) {
    bool wake = false;
    {
        std::unique_lock lock(mu_);
        // An observer that makes the engine notify again (on the relay's thread) never waits:
        // only this thread makes room.
        const bool relay_itself = std::this_thread::get_id() == thread_.get_id();
        room_cv_.wait(
            lock, [&] { return queue_.size() < options_.max_queued || !running_ || relay_itself; });
        queue_.push_back(std::move(note));
        ++pushed_;
        if (stopping_ && !running_) {
            deliver_here(lock);  // after stop() (or before any start): delivered here, not lost
            return;
        }
        // A thread that waits for a batch to gather finds this one when it wakes; only a prompt
        // (a person waits for it) or a full batch wakes it early.
        if (idle_ || (lingering_ && (urgent || queue_.size() >= options_.max_queued / 2))) {
            idle_ = lingering_ = false;
            wake = true;
            ++wakeups_;
        }
    }
    if (wake) work_cv_.notify_one();
}

void ObserverRelay::run() {
    std::unique_lock lock(mu_);
    std::deque<Note> batch;
    for (;;) {
        if (queue_.empty()) {
            if (stopping_) {
                running_ = false;  // from now on a caller delivers what it hands in
                room_cv_.notify_all();
                return;
            }
            // Nothing gathered in the last batch's time: wait for the next note, however long.
            idle_ = true;
            work_cv_.wait(lock, [&] { return !idle_ || stopping_; });
            idle_ = false;
            continue;
        }
        batch.swap(queue_);
        lock.unlock();
        room_cv_.notify_all();
        for (const Note& note : batch)
            deliver(note);
        const size_t n = batch.size();
        batch.clear();
        lock.lock();
        delivered_ += n;
        room_cv_.notify_all();
        // Half a queue gathered while delivering: no lingering (callers may wait for room).
        if (stopping_ || queue_.size() >= options_.max_queued / 2) continue;
        // Let the next batch gather: the callers do not wake the thread meanwhile.
        lingering_ = true;
        if (flushing_ == 0)
            work_cv_.wait_for(lock, options_.batch,
                              [&] { return !lingering_ || stopping_ || flushing_ > 0; });
        lingering_ = false;
    }
}

void ObserverRelay::deliver(const Note& note) {
    std::visit(
        [this](const auto& n) {
            using T = std::decay_t<decltype(n)>;
            for (EngineObserver* o : observers_) {
                if constexpr (std::is_same_v<T, Decided>) {
                    o->on_decision(n.event, n.nolog);
                } else if constexpr (std::is_same_v<T, OverLimit>) {
                    o->on_over_limit(n.total);
                } else if constexpr (std::is_same_v<T, Opened>) {
                    o->on_prompt_opened(n.prompt);
                } else if constexpr (std::is_same_v<T, Joined>) {
                    o->on_prompt_joined(n.prompt_id, n.flows);
                } else {
                    o->on_prompt_closed(n.prompt_id, n.action, n.reason, n.rule);
                }
            }
        },
        note);
}

void ObserverRelay::decision(DecisionEvent e, bool nolog) {
    push(Decided{std::move(e), nolog}, false);
}

void ObserverRelay::over_limit(uint64_t total) {
    push(OverLimit{total}, false);
}

void ObserverRelay::prompt_opened(Prompt p) {
    push(Opened{std::move(p)}, true);
}

void ObserverRelay::prompt_joined(uint64_t prompt_id, size_t flows) {
    push(Joined{prompt_id, flows}, true);
}

void ObserverRelay::prompt_closed(uint64_t prompt_id, Action action, Reason reason,
                                  std::optional<std::string> rule) {
    push(Closed{prompt_id, action, reason, std::move(rule)}, true);
}

uint64_t ObserverRelay::wakeups() const {
    std::lock_guard lock(mu_);
    return wakeups_;
}

}  // namespace tsnitch
