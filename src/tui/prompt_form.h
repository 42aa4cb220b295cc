// The prompt's state machine, without a terminal: which action, duration and scope are chosen,
// which field has the focus, and what a key does. Keys typed in the first moment after the prompt
// appears are ignored, so that typing meant for something else does not answer it.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include "core/rules/rule_for_connection.h"
#include "tui/ui_records.h"

namespace tsnitch::tui {

// once, 30s, 5m, 15m, 30m, 1h, 12h, 24h, until restart, always.
const std::vector<RuleDuration>& standard_durations();
// The same without once: what a stored rule can have (the edit dialog, a new rule).
const std::vector<RuleDuration>& rule_durations();

// A scope as the forms show it: "this executable: /usr/bin/curl", "this user: alice (1000)",
// "*.example.com" (raw: the views make it safe).
std::string scope_text(const Connection& c, const Scope& s);

class PromptForm {
  public:
    using Clock = std::chrono::steady_clock;
    enum class Field { action, duration, scope };

    // `shown`: when the prompt appeared on the screen; keys before shown + key_delay are ignored.
    PromptForm(const PendingPrompt& prompt, RuleDuration default_duration,
               std::chrono::milliseconds key_delay, Clock::time_point shown);
    // The same form for making a rule outside a prompt (from a Sockets or Connections row):
    // `action` chosen, `always` by default, no "once" (there is no decision to make once), keys
    // at once. A connection without a peer (a listening socket) offers only the process's scopes.
    static PromptForm for_new_rule(const Connection& c, Action action);
    bool new_rule() const { return new_rule_; }

    // Handles one key (see keys.h); returns the answer when the key confirmed the prompt.
    std::optional<Answer> handle_key(int key, Clock::time_point now);
    // The answer that the deadline (or Esc) gives: the defaults, whatever was selected.
    Answer default_answer() const;
    // The answer for the current selection with this action.
    Answer answer_with(Action action) const;

    bool ignoring_keys(Clock::time_point now) const { return now < accept_from_; }
    uint64_t prompt_id() const { return prompt_.id; }
    const PendingPrompt& prompt() const { return prompt_; }
    // Takes the newer copy of the same prompt (joined count, deadline); keeps the selection.
    void refresh(const PendingPrompt& p) { prompt_ = p; }

    Field focus() const { return focus_; }
    Action action() const { return action_; }
    const std::vector<RuleDuration>& durations() const { return durations_; }
    size_t duration_index() const { return duration_; }
    const std::vector<Scope>& scopes() const { return scopes_; }
    size_t scope_index() const { return scope_; }

  private:
    Answer make_answer(Action a, size_t duration, size_t scope) const;
    void move(int step);

    PendingPrompt prompt_;
    bool new_rule_ = false;
    std::vector<RuleDuration> durations_;
    std::vector<Scope> scopes_;
    size_t default_duration_ = 0;
    Clock::time_point accept_from_;
    Field focus_ = Field::duration;
    Action action_;
    size_t duration_ = 0;
    size_t scope_ = 0;
};

}  // namespace tsnitch::tui
