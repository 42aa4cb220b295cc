// The thread-safe half of a Backend: engine threads post what changed, the UI thread takes it in
// drain(). An eventfd tells the UI that something is waiting. The engine adapter owns one and
// forwards wake_fd()/drain() to it, so that it only has to translate, not synchronise:
//   int wake_fd() const override { return queue_.fd(); }
//   BackendUpdate drain() override { return queue_.take(); }
// and posts the whole pending list, rule list and status once before run_tui(), then on change.
#pragma once

#include <mutex>

#include "tui/backend.h"

namespace tsnitch::tui {

class UpdateQueue {
  public:
    // At most `max_events` decisions wait between two drains; older ones are dropped (counted
    // in dropped()), so a stalled terminal cannot grow memory.
    explicit UpdateQueue(size_t max_events = 10000);
    ~UpdateQueue();
    UpdateQueue(const UpdateQueue&) = delete;
    UpdateQueue& operator=(const UpdateQueue&) = delete;

    int fd() const { return fd_; }  // readable while take() has something

    // From any thread:
    void add_event(DecisionEvent e);
    void add_log(LogLine line);
    void set_pending(std::vector<PendingPrompt> pending);
    void set_rules(std::vector<RuleSummary> rules);
    void set_status(EngineStatus status);
    void stop();

    // From the UI thread (Backend::drain): everything posted since the last call.
    BackendUpdate take();
    // Decisions dropped because the UI did not take them in time (since the start).
    uint64_t dropped() const;

  private:
    void wake();  // with mu_ held

    mutable std::mutex mu_;
    int fd_ = -1;
    size_t max_events_;
    BackendUpdate pending_update_;
    uint64_t dropped_ = 0;
};

}  // namespace tsnitch::tui
