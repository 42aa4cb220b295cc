#include "cli/engine_backend.h"

#include <chrono>

#include "core/rules/rule.h"

namespace tsnitch::cli {

namespace {

tui::PendingPrompt pending_of(const Prompt& p, Action default_action) {
    tui::PendingPrompt t;
    t.id = p.id;
    t.connection = p.connection;
    t.method = p.method;
    t.opened = p.opened;
    if (p.deadline) {
        // The engine keeps wall-clock deadlines; the UI counts down on the steady clock.
        t.deadline = std::chrono::steady_clock::now() +
                     std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                         *p.deadline - std::chrono::system_clock::now());
    }
    t.default_action = default_action;
    t.joined = static_cast<unsigned>(p.flows > 0 ? p.flows - 1 : 0);
    return t;
}

}  // namespace

EngineBackend::EngineBackend(Engine& engine, RuleStore& rules, tui::EngineStatus status,
                             Action default_action, size_t max_events)
    : engine_(engine),
      rules_(rules),
      base_status_(std::move(status)),
      default_action_(default_action),
      queue_(max_events) {}

void EngineBackend::publish_all() {
    publish_pending();
    publish_rules();
    publish_status();
}

void EngineBackend::log(LogLevel level, std::string text) {
    queue_.add_log({std::chrono::system_clock::now(), level, std::move(text)});
}

void EngineBackend::publish_pending() {
    std::vector<tui::PendingPrompt> list;
    for (const Prompt& p : engine_.prompts())
        list.push_back(pending_of(p, default_action_));
    queue_.set_pending(std::move(list));
}

void EngineBackend::publish_rules() {
    std::vector<tui::RuleSummary> list;
    for (const StoredRule& s : rules_.rules()) {
        tui::RuleSummary r;
        r.name = s.rule.name;
        r.enabled = s.rule.enabled;
        r.action = s.rule.action;
        r.duration = s.rule.duration;
        r.summary = describe_operator(s.rule.op);
        list.push_back(std::move(r));
    }
    rule_count_ = list.size();
    queue_.set_rules(std::move(list));
}

void EngineBackend::publish_status() {
    const EngineStats st = engine_.stats();
    tui::EngineStatus s = base_status_;
    s.rule_count = rule_count_;
    s.pending_count = st.prompts_open;
    s.allowed = st.allowed;
    s.denied = st.denied;
    s.rejected = st.rejected;
    s.queue_dropped = st.queue_dropped + st.queue_user_dropped;
    queue_.set_status(std::move(s));
}

void EngineBackend::rules_changed() {
    publish_rules();
    engine_.rules_changed();
    publish_status();
}

Status EngineBackend::answer(uint64_t prompt_id, const tui::Answer& answer) {
    std::optional<Rule> rule;
    if (answer.rule && answer.duration.kind != RuleDuration::Kind::once) {
        rule = *answer.rule;
        rule->action = answer.action;
        rule->duration = answer.duration;
    }
    // The prompt is decided first: once the rule is stored, a reload of the rules directory
    // would decide it by the rule instead of by the person's answer.
    std::optional<std::string> rule_name;
    if (rule) rule_name = rule->name;
    if (auto s = engine_.answer(prompt_id, answer.action, rule_name); !s) return s;
    if (!rule) return Ok{};
    auto stored = rules_.add(std::move(*rule));
    if (!stored) return stored.error();
    // The new rule may decide other open prompts (another connection of the same program).
    rules_changed();
    return Ok{};
}

Status EngineBackend::set_rule_enabled(const std::string& name, bool enabled) {
    if (auto s = rules_.set_enabled(name, enabled); !s) return s;
    rules_changed();
    return Ok{};
}

Status EngineBackend::add_rule(const Rule& rule) {
    auto stored = rules_.add(rule);
    if (!stored) return stored.error();
    rules_changed();
    return Ok{};
}

SocketMonitor* EngineBackend::socket_monitor() {
    if (!sockets_ && !sockets_failed_) {
        auto table = SocketTable::open();
        if (!table) {
            sockets_failed_ = true;
            log(LogLevel::error, "the socket table: " + table.error().message);
            return nullptr;
        }
        sockets_ = std::make_unique<SocketMonitor>(std::move(*table), std::chrono::seconds(1));
    }
    return sockets_.get();
}

Status EngineBackend::delete_rule(const std::string& name) {
    if (auto s = rules_.remove(name); !s) return s;
    rules_changed();
    return Ok{};
}

Status EngineBackend::change_rule(const std::string& name, Action action, RuleDuration duration) {
    auto stored = rules_.find(name);
    if (!stored) return make_error("rule " + name + ": no such rule");
    Rule r = stored->rule;
    r.action = action;
    r.duration = duration;
    r.updated = rfc3339_utc(std::chrono::system_clock::now());
    if (auto s = rules_.replace(name, std::move(r)); !s) return s;
    rules_changed();
    return Ok{};
}

void EngineBackend::on_decision(const DecisionEvent& e, bool /*nolog*/) {
    queue_.add_event(e);
    publish_status();
}

void EngineBackend::on_prompt_opened(const Prompt& /*p*/) {
    publish_pending();
    publish_status();
}

void EngineBackend::on_prompt_closed(uint64_t /*prompt_id*/, Action /*action*/, Reason /*reason*/) {
    publish_pending();
}

}  // namespace tsnitch::cli
