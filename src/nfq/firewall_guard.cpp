#include "nfq/firewall_guard.h"

namespace tsnitch::nfq {

namespace {

constexpr unsigned kMaxRepairsPerSecond = 20;

}  // namespace

FirewallGuard::FirewallGuard(Firewall& firewall, unsigned fallback_period, unsigned legacy_period)
    : firewall_(firewall), period_(legacy_period) {
    if (!firewall_.notifies_changes()) {
        watch_problem_ = "iptables-legacy sends no change notifications";
        return;
    }
    auto w = RulesetWatch::open();
    if (!w) {
        watch_problem_ = w.error().message;
        return;
    }
    watch_.emplace(std::move(*w));
    period_ = fallback_period;
}

GuardNews FirewallGuard::on_readable() {
    if (!watch_) return {};
    auto changed = watch_->drain();
    if (!changed) return {"", changed.error().message};
    if (!*changed) return {};
    if (backed_off_) {
        pending_ = true;  // checked on the next tick
        return {};
    }
    GuardNews news = check("noticed at once");
    if (!news.info.empty() && ++repairs_this_second_ > kMaxRepairsPerSecond) {
        backed_off_ = true;
        news.info +=
            "; another program keeps changing them: checked once a second while it goes on";
    }
    return news;
}

GuardNews FirewallGuard::on_tick() {
    ++ticks_;
    // Backed off only for as long as the last second was busy.
    backed_off_ = repairs_this_second_ > kMaxRepairsPerSecond;
    repairs_this_second_ = 0;
    if (pending_) {
        pending_ = false;
        return check("noticed at once, repaired on the next tick");
    }
    if (ticks_ % period_ != 0) return {};
    return check("found by the periodic check");
}

GuardNews FirewallGuard::check(const char* how) {
    // The repair is notified too; the check that follows finds the rules intact and changes
    // nothing. Those notifications are not thrown away: one of another program's could be among
    // them.
    auto repaired = firewall_.repair();
    // A repair that failed (e.g. another program's change in the middle of ours) is tried again
    // on the next tick.
    if (!repaired) {
        pending_ = true;
        return {"", "checking the firewall rules: " + repaired.error().message};
    }
    if (!*repaired) return {};
    return {std::string("the firewall rules were changed by another program (") + how +
                "); re-added them",
            ""};
}

}  // namespace tsnitch::nfq
