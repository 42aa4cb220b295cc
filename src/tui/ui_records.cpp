#include "tui/ui_records.h"

#include <algorithm>

namespace tsnitch::tui {

PendingPrompt pending_of(const PromptRecord& p, std::chrono::steady_clock::time_point now) {
    PendingPrompt t;
    t.id = p.id;
    t.connection = p.connection;
    t.method = p.method;
    t.opened = p.opened;
    if (p.remaining) t.deadline = now + *p.remaining;
    t.default_action = p.default_action;
    t.joined = p.joined;
    return t;
}

EngineStatus status_of(const StatusRecord& s) {
    EngineStatus e;
    e.intercepting = s.intercepting;
    e.queue_num = s.queues.empty() ? 0 : s.queues.front();
    e.queue_count = static_cast<unsigned>(std::max<size_t>(1, s.queues.size()));
    e.queue_dropped = s.queue_drops;
    e.method = s.method;
    e.fallback_notice = s.fallback_notice;
    e.firewall = s.firewall;
    e.rule_count = s.rule_count;
    e.broken_rule_files = s.broken_rule_files;
    e.pending_count = s.prompts_open;
    e.allowed = s.allowed;
    e.denied = s.denied;
    e.rejected = s.rejected;
    return e;
}

RuleSummary summary_of(const RuleRecord& r) {
    RuleSummary s;
    s.name = r.rule.name;
    s.enabled = r.rule.enabled;
    s.action = r.rule.action;
    s.duration = r.rule.duration;
    s.summary = describe_operator(r.rule.op);
    s.hits = r.hits;
    return s;
}

LogLine line_of(const LogRecord& l) {
    return {l.time, l.level, l.text};
}

}  // namespace tsnitch::tui
