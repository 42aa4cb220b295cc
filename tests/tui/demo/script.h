// The demo's script: the rules, and which connections (with their processes) and log lines come
// when (YAML or JSON, see demo_main.cpp's usage text for the format). The Daemon decides them as it
// would decide real ones.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/daemon/records.h"
#include "core/result.h"

namespace tsnitch::tui::demo {

struct Step {
    std::chrono::milliseconds at{0};       // after the start
    std::optional<Connection> connection;  // a new connection ("prompt:" or "event:")
    Method method = Method::none;          // how its process is found
    std::optional<LogRecord> log;          // a message of the daemon
};

struct Script {
    StatusRecord status;
    Action default_action = Action::deny;
    RuleDuration default_duration;
    unsigned timeout_s = 30;  // PromptTimeout; 0: no deadline
    std::vector<Rule> rules;
    std::vector<Step> steps;  // in time order
};

// `origin` names the text in errors ("demo.yaml: steps[2].prompt.dst: bad address 'x'").
Result<Script> parse_script(std::string_view text, std::string_view origin);

// A script that shows a bit of everything, for trying the UI by hand.
std::string_view builtin_script();

}  // namespace tsnitch::tui::demo
