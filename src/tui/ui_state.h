// Everything the main screen shows and where the person is in it; owned by the UI loop
// (app.cpp), drawn by views.cpp.
#pragma once

#include <chrono>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "tui/backend.h"
#include "tui/prompt_form.h"
#include "tui/tui.h"
#include "tui/view_model.h"

namespace tsnitch::tui {

inline constexpr size_t kMaxLogLines = 1000;

enum class View { connections, rules, stats, sockets, log, help };

// Changing a rule's action and duration (the Rules view's edit dialog).
struct RuleEdit {
    std::string name;
    int field = 0;  // 0 action, 1 duration
    Action action = Action::deny;
    size_t duration = 0;  // index into standard_durations()
};

struct UiState {
    explicit UiState(const TuiOptions& o) : options(o), log(o.max_events) {}

    TuiOptions options;
    EngineStatus status;
    EventLog log;
    std::vector<RuleSummary> rules;      // by name
    std::vector<PendingPrompt> pending;  // oldest first, without those answered here
    std::vector<uint64_t> answered;      // answered here, until the backend drops them too
    std::optional<PromptForm> form;      // the prompt on screen (the oldest pending)

    View view = View::connections;
    // Connections: the filter, whether it is being typed, the selected row (0: newest).
    std::string filter;
    bool editing_filter = false;
    size_t conn_selected = 0;
    size_t conn_top = 0;
    // Rules: the selected row, a delete waiting for "y", an edit dialog.
    size_t rule_selected = 0;
    RuleOrder rule_order = RuleOrder::name;
    size_t rule_top = 0;
    std::optional<std::string> confirm_delete;
    std::optional<RuleEdit> edit;
    // Log: the newest lines (at most kMaxLogLines), scrolled back by log_back lines.
    std::deque<LogLine> log_lines;
    size_t log_back = 0;
    // Help: scrolling.
    size_t help_top = 0;

    bool confirm_quit = false;
    std::string message;  // shown in the bottom line for a few seconds (errors of commands)
    std::chrono::steady_clock::time_point message_until;
};

// Draws the whole screen: status line, tabs, the current view, dialogs, and the prompt on top.
void draw_ui(Screen& s, UiState& st, std::chrono::steady_clock::time_point now);
// Rows the current list view shows (for paging).
int list_rows(const Screen& s);

}  // namespace tsnitch::tui
