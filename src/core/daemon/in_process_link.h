// A DaemonLink to the Daemon of this process (the TUI of `tsnitch run` and `tsnitch monitor`, the
// demo): a subscription whose outbox the front end drains, commands executed on the front end's
// thread. The stream link of `tsnitch attach` carries the same events and commands over bytes.
#pragma once

#include "core/daemon/daemon.h"

namespace tsnitch {

class InProcessLink final : public DaemonLink {
  public:
    explicit InProcessLink(Daemon& daemon) : daemon_(daemon), sub_(daemon.subscribe()) {}
    ~InProcessLink() override { daemon_.unsubscribe(sub_.id); }
    InProcessLink(const InProcessLink&) = delete;
    InProcessLink& operator=(const InProcessLink&) = delete;

    int wake_fd() const override { return sub_.outbox->wake_fd(); }
    std::vector<DaemonEvent> drain() override { return sub_.outbox->drain(); }
    void send(DaemonCommand command) override { daemon_.execute(sub_.id, command); }

  private:
    Daemon& daemon_;
    Daemon::Subscription sub_;
};

}  // namespace tsnitch
