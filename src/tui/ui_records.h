// The UI's own view of the daemon, built from the DaemonEvents it receives over its DaemonLink
// (core/daemon/records.h): what the views draw, in the shape they draw it.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/attribution/socket_table.h"
#include "core/attribution/socket_view.h"
#include "core/config.h"
#include "core/connection.h"
#include "core/daemon/records.h"
#include "core/duration.h"
#include "core/result.h"
#include "core/rules/rule.h"

namespace tsnitch::tui {

// The person's answer to a prompt.
struct Answer {
    Action action = Action::deny;
    RuleDuration duration;  // once: this decision only
    // The rule to store (created/updated empty: the store stamps them); nullopt exactly when
    // duration is once.
    std::optional<Rule> rule;
};

// A decision waiting for the person.
struct PendingPrompt {
    uint64_t id = 0;               // stable while the prompt is pending; never reused
    Connection connection;         // with .process (parents nearest first, cwd, args) when found
    Method method = Method::none;  // how the process was found
    std::chrono::system_clock::time_point opened;                   // when the first packet arrived
    std::optional<std::chrono::steady_clock::time_point> deadline;  // nullopt: PromptTimeout 0
    Action default_action = Action::deny;  // applied at the deadline (and on Esc)
    unsigned joined = 0;  // packets/connections of the same process+destination that joined it
};

// One line of the Rules view.
struct RuleSummary {
    std::string name;
    bool enabled = true;
    Action action = Action::deny;
    RuleDuration duration;
    std::string summary;  // describe_operator(rule.op), e.g. "process.path == /usr/bin/curl"
    uint64_t hits = 0;
};

// A message of the daemon (rule file errors, fallbacks, ...).
struct LogLine {
    std::chrono::system_clock::time_point time;
    LogLevel level = LogLevel::info;
    std::string text;
};

// The daemon's records as the views hold them. A prompt's deadline is `remaining` from `now`, the
// moment the record arrived (clocks of two machines cannot be compared).
PendingPrompt pending_of(const PromptRecord& p, std::chrono::steady_clock::time_point now);
RuleSummary summary_of(const RuleRecord& r);
LogLine line_of(const LogRecord& l);

}  // namespace tsnitch::tui
