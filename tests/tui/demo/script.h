// The demo's script: what the fake backend shows and when (YAML or JSON, see demo_main.cpp's
// usage text for the format).
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "tui/backend.h"

namespace tsnitch::tui::demo {

struct Step {
    std::chrono::milliseconds at{0};      // after the start
    std::optional<PendingPrompt> prompt;  // a connection that waits for an answer
    std::optional<DecisionEvent> event;   // a decision already taken (by a rule)
    std::optional<LogLine> log;           // a message of the engine
};

struct Script {
    EngineStatus status;
    Action default_action = Action::deny;
    RuleDuration default_duration;
    unsigned timeout_s = 30;  // PromptTimeout; 0: no deadline
    std::vector<RuleSummary> rules;
    std::vector<Step> steps;  // in time order
};

// `origin` names the text in errors ("demo.yaml: steps[2].prompt.dst: bad address 'x'").
Result<Script> parse_script(std::string_view text, std::string_view origin);

// A script that shows a bit of everything, for trying the UI by hand.
std::string_view builtin_script();

}  // namespace tsnitch::tui::demo
