// The Daemon's commands: what a front end asks for (answer a prompt, change the rules, the socket
// table, process details), each answered by a CommandResult to the one who asked.
#include <type_traits>

#include "core/attribution/process_reader.h"
#include "core/daemon/daemon.h"
#include "core/rules/rule.h"

namespace tsnitch {

void Daemon::execute(SubscriberId from, const DaemonCommand& command) {
    if (const auto* ask = std::get_if<AskProcessDetails>(&command.body)) {
        ProcessDetailsReply reply = process_details(*ask);
        reply.request = command.request;
        std::lock_guard lock(mu_);
        reply_locked(from, std::move(reply));
        return;
    }
    const std::string error = std::visit(
        [&](const auto& body) -> std::string {
            using T = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<T, AnswerPrompt>) return answer(body);
            if constexpr (std::is_same_v<T, AddRule>) return add_rule(body);
            if constexpr (std::is_same_v<T, ChangeRule>) return change_rule(body);
            if constexpr (std::is_same_v<T, EnableRule>) return enable_rule(body);
            if constexpr (std::is_same_v<T, DeleteRule>) return delete_rule(body);
            if constexpr (std::is_same_v<T, DismissReview>) return dismiss_review(body);
            if constexpr (std::is_same_v<T, SubscribeSockets>) return subscribe_sockets(from, body);
            if constexpr (std::is_same_v<T, CloseSocket>) return close_socket(body);
            return "this command has no answer here";
        },
        command.body);
    std::lock_guard lock(mu_);
    reply_locked(from, CommandResult{command.request, error});
}

std::string Daemon::rules_refused(const char* done) const {
    return options_.status.intercepting ? ""
                                        : std::string("rules can only be ") + done +
                                              " while tsnitch intercepts (tsnitch run)";
}

std::string Daemon::answer(const AnswerPrompt& a) {
    std::optional<Rule> rule;
    if (a.rule && a.duration.kind != RuleDuration::Kind::once) {
        rule = *a.rule;
        rule->action = a.action;
        rule->duration = a.duration;
    }
    // The prompt is decided first: once the rule is stored, a reload of the rules directory
    // would decide it by the rule instead of by the person's answer. The first answer wins;
    // a later one finds no open prompt.
    std::optional<std::string> rule_name;
    if (rule) rule_name = rule->name;
    if (auto s = engine_.answer(a.prompt_id, a.action, rule_name); !s) return s.error().message;
    // The front ends hear of the answer's decision before they hear of the rule it made.
    engine_.flush_observers();
    if (!rule) return "";
    const std::string said = "rule " + rule->name + " written (answer): " + describe_rule(*rule);
    auto stored = rules_.add(std::move(*rule));
    if (!stored) return stored.error().message;
    log(LogLevel::info, said);
    // The new rule may decide other open prompts (another connection of the same program).
    rules_changed();
    return "";
}

std::string Daemon::add_rule(const AddRule& a) {
    if (auto refused = rules_refused("added"); !refused.empty()) return refused;
    auto stored = rules_.add(a.rule);
    if (!stored) return stored.error().message;
    log(LogLevel::info, "rule " + a.rule.name + " written: " + describe_rule(a.rule));
    rules_changed();
    return "";
}

std::string Daemon::change_rule(const ChangeRule& c) {
    if (auto refused = rules_refused("changed"); !refused.empty()) return refused;
    auto stored = rules_.find(c.name);
    if (!stored) return "rule " + c.name + ": no such rule";
    Rule r = stored->rule;
    r.action = c.action;
    r.duration = c.duration;
    r.updated = rfc3339_utc(std::chrono::system_clock::now());
    const std::string said = "rule " + c.name + " changed: " + describe_rule(r);
    if (auto s = rules_.replace(c.name, std::move(r)); !s) return s.error().message;
    log(LogLevel::info, said);
    rules_changed();
    return "";
}

std::string Daemon::enable_rule(const EnableRule& e) {
    if (auto refused = rules_refused("changed"); !refused.empty()) return refused;
    if (auto s = rules_.set_enabled(e.name, e.enabled); !s) return s.error().message;
    log(LogLevel::info, "rule " + e.name + (e.enabled ? " enabled" : " disabled"));
    rules_changed();
    return "";
}

std::string Daemon::delete_rule(const DeleteRule& d) {
    if (auto refused = rules_refused("changed"); !refused.empty()) return refused;
    if (auto s = rules_.remove(d.name); !s) return s.error().message;
    log(LogLevel::info, "rule " + d.name + " deleted");
    rules_changed();
    return "";
}

void Daemon::rules_changed() {
    engine_.rules_changed();
    const size_t broken = rules_.broken_files().size();
    {
        std::lock_guard lock(mu_);
        broken_rule_files_ = broken;
        std::vector<RuleRecord> records = rule_records_locked();
        rule_count_ = records.size();
        broadcast_locked(RulesChanged{std::move(records)});
        broadcast_status_locked();
    }
    kick();  // a timed rule may have come or gone
}

std::string Daemon::dismiss_review(const DismissReview& d) {
    std::lock_guard lock(mu_);
    const auto it = std::find_if(review_.begin(), review_.end(),
                                 [&](const ReviewRecord& r) { return r.id == d.id; });
    if (it == review_.end()) return "review item " + std::to_string(d.id) + ": no such item";
    review_.erase(it);
    broadcast_locked(ReviewRemoved{d.id});
    return "";
}

std::string Daemon::subscribe_sockets(SubscriberId from, const SubscribeSockets& s) {
    {
        std::lock_guard lock(mu_);
        auto it = subscribers_.find(from);
        if (it == subscribers_.end()) return "not subscribed";
        it->second.sockets = s.on ? std::optional<SubscribeSockets>(s) : std::nullopt;
        if (s.on) socket_request_ = s;
    }
    std::string error = update_socket_monitor();
    if (!error.empty()) {
        SocketTableUpdate u;
        u.error = error;
        std::lock_guard lock(mu_);
        reply_locked(from, std::move(u));
    }
    return error;
}

std::string Daemon::update_socket_monitor() {
    std::lock_guard sockets_lock(sockets_mu_);
    bool wanted = false;
    SubscribeSockets request;
    {
        std::lock_guard lock(mu_);
        for (const auto& [id, sub] : subscribers_)
            wanted = wanted || sub.sockets.has_value();
        request = socket_request_;
    }
    if (!wanted) {
        if (monitor_) monitor_->set_paused(true);
        return "";
    }
    // One table for all subscribers: the newest request's focus and interval are its own. A new
    // interval needs a new refresh thread (its old wake fd leaves the epoll set as it closes).
    if (monitor_ && monitor_->interval() != request.interval) monitor_.reset();
    if (!monitor_) {
        auto table = SocketTable::open(processes_);
        if (!table) return "the socket table: " + table.error().message;
        monitor_ = std::make_unique<SocketMonitor>(std::move(*table), request.interval,
                                                   request.focus_pid, request.all_fds);
        add_socket_monitor_to_housekeeping(monitor_->wake_fd());
        return "";
    }
    monitor_->set_paused(false);
    monitor_->set_focus(request.focus_pid, request.all_fds);
    return "";
}

std::string Daemon::close_socket(const CloseSocket& c) {
    if (auto s = processes_.destroy_socket(c.socket); !s) return s.error().message;
    // Refreshed at once, so that the closed socket fades from the views.
    (void)update_socket_monitor();
    return "";
}

ProcessDetailsReply Daemon::process_details(const AskProcessDetails& a) {
    ProcessDetailsReply reply;
    auto p = processes_.process(a.pid);
    if (p) {
        reply.process = std::move(*p);
    } else {
        reply.error = p.error().message;
    }
    return reply;
}

}  // namespace tsnitch
