// What the engine tells its front ends (EngineObserver) and what a prompt is.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "core/connection.h"

namespace tsnitch {

// A pending decision that waits for a person.
struct Prompt {
    uint64_t id = 0;
    Connection connection;  // the first connection that opened it
    Method method = Method::none;
    uint64_t attribution_us = 0;
    std::chrono::system_clock::time_point opened;                   // shown to the person
    std::optional<std::chrono::steady_clock::time_point> deadline;  // PromptTimeout
    size_t flows = 0;                                               // connections waiting on it
    size_t packets = 0;                                             // packets held by it
};

// Front ends implement what they need. Calls come from one thread, the engine's ObserverRelay,
// in the order the engine made them (after Engine::stop(), from the thread that made them);
// implementations guard what other threads also read and return quickly (no I/O that can
// block): the next notification waits meanwhile.
class EngineObserver {
  public:
    virtual ~EngineObserver() = default;
    // `nolog`: the rule asked not to log it (the --events file skips it).
    virtual void on_decision(const DecisionEvent& /*e*/, bool /*nolog*/) {}
    virtual void on_prompt_opened(const Prompt& /*p*/) {}
    // More connections of the same process and destination joined an open prompt.
    virtual void on_prompt_joined(uint64_t /*prompt_id*/, size_t /*flows*/) {}
    // `rule`: the rule that decided it, or the one the answer made.
    virtual void on_prompt_closed(uint64_t /*prompt_id*/, Action /*action*/, Reason /*reason*/,
                                  const std::optional<std::string>& /*rule*/) {}
    // A decision was given DefaultAction because too much was pending; `total` since the start.
    virtual void on_over_limit(uint64_t /*total*/) {}
};

}  // namespace tsnitch
