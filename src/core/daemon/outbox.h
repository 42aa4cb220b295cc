// One front end's queue of DaemonEvents: the daemon pushes (never blocking, from any thread), the
// front end drains when wake_fd() (an eventfd, level-triggered) is readable. Bounded: a front end
// that does not keep up is closed — its outbox then holds only a Stopping that says why — so a
// stalled terminal or a dead socket can never hold up the firewall or grow its memory.
#pragma once

#include <deque>
#include <mutex>
#include <string>
#include <vector>

#include "core/daemon/records.h"
#include "core/unique_fd.h"

namespace tsnitch {

class Outbox {
  public:
    explicit Outbox(size_t limit);
    Outbox(const Outbox&) = delete;
    Outbox& operator=(const Outbox&) = delete;

    int wake_fd() const { return wake_.get(); }

    // False when the outbox was closed (now, by overflowing, or before): the event is not kept.
    // A StatusChanged replaces one that is still waiting at the end: only the newest matters.
    bool push(DaemonEvent e);
    // A Stopping{reason} after what waits; later pushes are refused.
    void close(std::string reason);
    bool closed() const;

    // Everything waiting, oldest first; never blocks.
    std::vector<DaemonEvent> drain();

  private:
    void wake();  // with mu_ held

    size_t limit_;
    UniqueFd wake_;
    mutable std::mutex mu_;
    std::deque<DaemonEvent> events_;
    bool closed_ = false;
};

}  // namespace tsnitch
