#include "tui/ui_records.h"

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
