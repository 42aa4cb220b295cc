// A backend that plays a script instead of intercepting: prompts and decisions appear at their
// time, answers and rule changes are written as JSON lines, and unanswered prompts time out to
// the default action as the engine's would. One thread: its wake-up fd is a timerfd armed for
// the next thing due.
#pragma once

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "tui/backend.h"
#include "tui/demo/script.h"

namespace tsnitch::tui::demo {

class FakeBackend : public Backend {
  public:
    // `answers`: where the JSON lines go (nullptr: nowhere); not owned.
    FakeBackend(Script script, std::FILE* answers);
    ~FakeBackend() override;
    FakeBackend(const FakeBackend&) = delete;
    FakeBackend& operator=(const FakeBackend&) = delete;

    int wake_fd() const override { return timer_fd_; }
    BackendUpdate drain() override;
    Status answer(uint64_t prompt_id, const Answer& answer) override;
    Status set_rule_enabled(const std::string& name, bool enabled) override;
    Status delete_rule(const std::string& name) override;
    Status change_rule(const std::string& name, Action action, RuleDuration duration) override;
    // The Sockets view's a/d: listed in the Rules view and written as an "add" line.
    Status add_rule(const Rule& rule) override;

    // Writes one line (the demo logs its own exit with it).
    void write_line(const std::string& json);

  private:
    using Clock = std::chrono::steady_clock;
    void add_prompt(PendingPrompt p, Clock::time_point now);
    void decide(const PendingPrompt& p, Action action, Reason reason,
                std::optional<std::string> rule);
    void arm(Clock::time_point now);
    void wake_now();
    RuleSummary* find_rule(const std::string& name);

    Script script_;
    std::FILE* answers_;
    int timer_fd_ = -1;
    Clock::time_point start_;
    size_t next_step_ = 0;
    uint64_t next_id_ = 1;
    std::vector<PendingPrompt> pending_;
    std::vector<DecisionEvent> new_events_;
    std::vector<LogLine> new_log_;
    bool first_ = true;
    bool pending_changed_ = false;
    bool rules_changed_ = false;
    bool status_changed_ = false;
};

}  // namespace tsnitch::tui::demo
