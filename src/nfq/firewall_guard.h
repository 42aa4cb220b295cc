// Keeps tsnitch's firewall rules in place while it runs. A change by another program (a flush, a
// rule inserted ahead of ours) is noticed when it happens, through nf_tables' notifications
// (RulesetWatch), and repaired at once; a slow periodic check stays as the fallback (and is the
// only check with iptables-legacy, which sends no notifications).
//
// The owner polls fd() and calls on_readable() when it is readable, and calls on_tick() once a
// second; both return what to log.
#pragma once

#include <optional>
#include <string>

#include "nfq/firewall.h"
#include "nfq/ruleset_watch.h"

namespace tsnitch::nfq {

struct GuardNews {
    std::string info;   // a repair, for the log
    std::string error;  // a failure to check or repair
};

class FirewallGuard {
  public:
    // Checks every `fallback_period` seconds when notifications come, every `legacy_period`
    // seconds when they cannot (no nf_tables, or the watch could not be opened).
    explicit FirewallGuard(Firewall& firewall, unsigned fallback_period = 30,
                           unsigned legacy_period = 5);

    // -1 when there are no notifications to wait for.
    int fd() const { return watch_ ? watch_->fd() : -1; }
    // Why there are no notifications (empty when there are).
    const std::string& watch_problem() const { return watch_problem_; }

    GuardNews on_readable();
    GuardNews on_tick();

  private:
    GuardNews check(const char* how);

    Firewall& firewall_;
    std::optional<RulesetWatch> watch_;
    std::string watch_problem_;
    unsigned period_;
    unsigned ticks_ = 0;
    // Another program that keeps rewriting the rules must not keep this one busy: after too many
    // repairs in one second, a notification is answered on the next tick (once a second), for as
    // long as the seconds stay that busy.
    unsigned repairs_this_second_ = 0;
    bool backed_off_ = false;
    bool pending_ = false;  // a check owed to the next tick (backed off, or a repair failed)
};

}  // namespace tsnitch::nfq
