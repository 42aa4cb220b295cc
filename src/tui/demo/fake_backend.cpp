#include "tui/demo/fake_backend.h"

#include <sys/timerfd.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/json.h"
#include "core/rules/rule.h"

namespace tsnitch::tui::demo {

namespace {

// The rule file's text on one line, for the answers file (JSON lines). Newlines in rule_to_json's
// output are layout only: inside strings they are written as \n.
std::string one_line(const std::string& json) {
    std::string out;
    for (size_t i = 0; i < json.size(); ++i) {
        if (json[i] != '\n') {
            out += json[i];
            continue;
        }
        while (i + 1 < json.size() && json[i + 1] == ' ')
            ++i;
    }
    return out;
}

bool same_flow(const Connection& a, const Connection& b) {
    const std::string pa = a.process ? a.process->path : "";
    const std::string pb = b.process ? b.process->path : "";
    return pa == pb && a.dst == b.dst && a.dst_port == b.dst_port && a.protocol == b.protocol;
}

}  // namespace

FakeBackend::FakeBackend(Script script, std::FILE* answers)
    : script_(std::move(script)), answers_(answers), start_(Clock::now()) {
    timer_fd_ = ::timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    script_.status.rule_count = script_.rules.size();
    wake_now();
}

FakeBackend::~FakeBackend() {
    if (timer_fd_ >= 0) ::close(timer_fd_);
}

void FakeBackend::write_line(const std::string& json) {
    if (!answers_) return;
    std::fputs(json.c_str(), answers_);
    std::fputc('\n', answers_);
    std::fflush(answers_);
}

void FakeBackend::wake_now() {
    itimerspec its{};
    its.it_value.tv_nsec = 1;
    ::timerfd_settime(timer_fd_, 0, &its, nullptr);
}

// Arms the timer for the next scripted step or prompt deadline, whichever comes first.
void FakeBackend::arm(Clock::time_point now) {
    std::optional<Clock::time_point> next;
    if (next_step_ < script_.steps.size()) next = start_ + script_.steps[next_step_].at;
    for (const auto& p : pending_) {
        if (p.deadline && (!next || *p.deadline < *next)) next = *p.deadline;
    }
    itimerspec its{};
    if (next) {
        const auto ns = std::max<long long>(
            1, std::chrono::duration_cast<std::chrono::nanoseconds>(*next - now).count());
        its.it_value.tv_sec = static_cast<time_t>(ns / 1'000'000'000);
        its.it_value.tv_nsec = static_cast<long>(ns % 1'000'000'000);
    }
    ::timerfd_settime(timer_fd_, 0, &its, nullptr);
}

void FakeBackend::add_prompt(PendingPrompt p, Clock::time_point now) {
    // The engine's rule: the same process to the same destination joins the pending decision.
    for (auto& q : pending_) {
        if (same_flow(q.connection, p.connection)) {
            ++q.joined;
            pending_changed_ = true;
            return;
        }
    }
    p.id = next_id_++;
    p.opened = std::chrono::system_clock::now();
    p.default_action = script_.default_action;
    if (script_.timeout_s > 0) p.deadline = now + std::chrono::seconds(script_.timeout_s);
    pending_.push_back(std::move(p));
    pending_changed_ = true;
}

void FakeBackend::decide(const PendingPrompt& p, Action action, Reason reason,
                         std::optional<std::string> rule) {
    DecisionEvent e;
    e.time = std::chrono::system_clock::now();
    e.action = action;
    e.reason = reason;
    e.rule = std::move(rule);
    e.connection = p.connection;
    e.method = p.method;
    new_events_.push_back(std::move(e));
    auto& st = script_.status;
    (action == Action::allow  ? st.allowed
     : action == Action::deny ? st.denied
                              : st.rejected) += 1 + p.joined;
    status_changed_ = true;
}

BackendUpdate FakeBackend::drain() {
    uint64_t expirations;
    while (::read(timer_fd_, &expirations, sizeof expirations) > 0) {
    }
    const auto now = Clock::now();
    while (next_step_ < script_.steps.size() && start_ + script_.steps[next_step_].at <= now) {
        Step& step = script_.steps[next_step_++];
        if (step.prompt) add_prompt(std::move(*step.prompt), now);
        if (step.log) {
            step.log->time = std::chrono::system_clock::now();
            new_log_.push_back(std::move(*step.log));
        }
        if (step.event) {
            step.event->time = std::chrono::system_clock::now();
            auto& st = script_.status;
            (step.event->action == Action::allow  ? st.allowed
             : step.event->action == Action::deny ? st.denied
                                                  : st.rejected)++;
            if (step.event->rule) {
                if (RuleSummary* r = find_rule(*step.event->rule)) ++r->hits, rules_changed_ = true;
            }
            new_events_.push_back(std::move(*step.event));
            status_changed_ = true;
        }
    }
    // Prompts past their deadline get the default action, as the engine does.
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->deadline && *it->deadline <= now) {
            write_line("{\"prompt\":" + std::to_string(it->id) +
                       ",\"action\":" + json_quote(action_name(it->default_action)) +
                       ",\"duration\":\"once\",\"reason\":\"timeout\",\"rule\":null}");
            decide(*it, it->default_action, Reason::timeout, std::nullopt);
            it = pending_.erase(it);
            pending_changed_ = true;
        } else {
            ++it;
        }
    }
    BackendUpdate u;
    u.events = std::move(new_events_);
    new_events_.clear();
    u.log = std::move(new_log_);
    new_log_.clear();
    if (pending_changed_ || first_) {
        u.pending = pending_;
        script_.status.pending_count = pending_.size();
        status_changed_ = true;
    }
    if (rules_changed_ || first_) {
        u.rules = script_.rules;
        script_.status.rule_count = script_.rules.size();
        status_changed_ = true;
    }
    if (status_changed_ || first_) u.status = script_.status;
    first_ = pending_changed_ = rules_changed_ = status_changed_ = false;
    arm(now);
    return u;
}

Status FakeBackend::answer(uint64_t prompt_id, const Answer& a) {
    const auto it = std::find_if(pending_.begin(), pending_.end(),
                                 [&](const PendingPrompt& p) { return p.id == prompt_id; });
    if (it == pending_.end()) {
        return make_error("prompt " + std::to_string(prompt_id) + " is no longer pending");
    }
    write_line("{\"prompt\":" + std::to_string(prompt_id) +
               ",\"action\":" + json_quote(action_name(a.action)) + ",\"duration\":" +
               json_quote(a.duration.to_string()) + ",\"reason\":\"prompt\",\"rule\":" +
               (a.rule ? one_line(rule_to_json(*a.rule)) : "null") + "}");
    if (a.rule) {
        RuleSummary r{a.rule->name,
                      a.rule->enabled,
                      a.rule->action,
                      a.rule->duration,
                      describe_operator(a.rule->op),
                      0};
        if (RuleSummary* old = find_rule(r.name)) {
            *old = r;
        } else {
            script_.rules.push_back(r);
        }
        rules_changed_ = true;
    }
    decide(*it, a.action, Reason::prompt,
           a.rule ? std::optional<std::string>(a.rule->name) : std::nullopt);
    pending_.erase(it);
    pending_changed_ = true;
    wake_now();
    return Ok{};
}

RuleSummary* FakeBackend::find_rule(const std::string& name) {
    const auto it = std::find_if(script_.rules.begin(), script_.rules.end(),
                                 [&](const RuleSummary& r) { return r.name == name; });
    return it == script_.rules.end() ? nullptr : &*it;
}

Status FakeBackend::set_rule_enabled(const std::string& name, bool enabled) {
    RuleSummary* r = find_rule(name);
    if (!r) return make_error("rule " + name + ": no such rule");
    r->enabled = enabled;
    write_line("{\"op\":\"enable\",\"rule\":" + json_quote(name) +
               ",\"enabled\":" + (enabled ? "true" : "false") + "}");
    rules_changed_ = true;
    wake_now();
    return Ok{};
}

Status FakeBackend::add_rule(const Rule& rule) {
    RuleSummary r;
    r.name = rule.name;
    r.action = rule.action;
    r.duration = rule.duration;
    r.summary = describe_operator(rule.op);
    script_.rules.push_back(r);
    write_line("{\"op\":\"add\",\"rule\":" + json_quote(rule.name) +
               ",\"action\":" + json_quote(action_name(rule.action)) + "}");
    rules_changed_ = true;
    wake_now();
    return Ok{};
}

Status FakeBackend::delete_rule(const std::string& name) {
    if (!find_rule(name)) return make_error("rule " + name + ": no such rule");
    std::erase_if(script_.rules, [&](const RuleSummary& r) { return r.name == name; });
    write_line("{\"op\":\"delete\",\"rule\":" + json_quote(name) + "}");
    rules_changed_ = true;
    wake_now();
    return Ok{};
}

Status FakeBackend::change_rule(const std::string& name, Action action, RuleDuration duration) {
    RuleSummary* r = find_rule(name);
    if (!r) return make_error("rule " + name + ": no such rule");
    r->action = action;
    r->duration = duration;
    write_line("{\"op\":\"change\",\"rule\":" + json_quote(name) +
               ",\"action\":" + json_quote(action_name(action)) +
               ",\"duration\":" + json_quote(duration.to_string()) + "}");
    rules_changed_ = true;
    wake_now();
    return Ok{};
}

}  // namespace tsnitch::tui::demo
