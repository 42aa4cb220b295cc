// The engine's notifications, delivered to its observers on a thread of their own. A queue reader
// answers its packet and goes back to the queue: what the observers do with a decision (an event
// line, the front ends, the kernel's verdict cache) is not on the path of the next packet.
// Notifications keep the order in which they were made. Decisions are delivered in batches: a
// stream of them wakes the relay once per batch, not once per decision; prompts go at once.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "core/engine/engine_observer.h"

namespace tsnitch {

struct RelayOptions {
    // How long the relay lets decisions gather after delivering some; a lone decision after a
    // quiet spell is delivered at once.
    std::chrono::microseconds batch{std::chrono::milliseconds(2)};
    // Notifications not yet delivered, at most (some 7 batches at 280k decisions/s; 65536 held
    // 100 MiB under the soak's reject flood). A caller beyond it waits for room: the observers
    // return quickly by contract, so only a stuck observer or a flood beyond what they can take
    // makes anyone wait; nothing is dropped.
    size_t max_queued = 4096;
};

class ObserverRelay {
  public:
    // `observers` is read from the relay's thread: complete it before start().
    ObserverRelay(const std::vector<EngineObserver*>& observers, RelayOptions options = {});
    ~ObserverRelay();  // stop()
    ObserverRelay(const ObserverRelay&) = delete;
    ObserverRelay& operator=(const ObserverRelay&) = delete;

    void start();
    // Delivers what is queued, then ends the thread. Without a thread (never started), the
    // caller delivers what is queued; so is whatever is handed in after stop().
    void stop();
    // Returns once everything handed in before the call has been delivered.
    void flush();

    void decision(DecisionEvent e, bool nolog);
    void over_limit(uint64_t total);
    void prompt_opened(Prompt p);
    void prompt_joined(uint64_t prompt_id, size_t flows);
    void prompt_closed(uint64_t prompt_id, Action action, Reason reason,
                       std::optional<std::string> rule);

    uint64_t wakeups() const;  // how often the relay's thread was woken by a caller

  private:
    struct Decided {
        DecisionEvent event;
        bool nolog;
    };
    struct OverLimit {
        uint64_t total;
    };
    struct Opened {
        Prompt prompt;
    };
    struct Joined {
        uint64_t prompt_id;
        size_t flows;
    };
    struct Closed {
        uint64_t prompt_id;
        Action action;
        Reason reason;
        std::optional<std::string> rule;
    };
    using Note = std::variant<Decided, OverLimit, Opened, Joined, Closed>;

    void push(Note note, bool urgent);
    // Without the thread: delivers what is queued on the calling thread.
    void deliver_here(std::unique_lock<std::mutex>& lock);
    void deliver(const Note& note);
    void run();

    const std::vector<EngineObserver*>& observers_;
    const RelayOptions options_;
    mutable std::mutex mu_;
    std::condition_variable work_cv_;  // the relay's thread waits for notes
    std::condition_variable room_cv_;  // callers wait for room or for a flush
    std::deque<Note> queue_;
    uint64_t pushed_ = 0;     // notes handed in
    uint64_t delivered_ = 0;  // of them, delivered
    bool idle_ = false;       // the thread waits without a deadline: a note wakes it
    bool lingering_ = false;  // the thread waits for a batch: only an urgent note wakes it
    bool stopping_ = false;
    bool running_ = false;  // the thread delivers (from start() until it ends)
    size_t flushing_ = 0;   // callers in flush(): the thread does not linger
    uint64_t wakeups_ = 0;
    std::thread thread_;
};

}  // namespace tsnitch
