// Everything the main screen shows and where the person is in it; owned by the UI loop
// (app.cpp), drawn by views.cpp.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tui/process_list.h"
#include "tui/prompt_form.h"
#include "tui/tui.h"
#include "tui/ui_records.h"
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

// The Sockets view's dialogs: closing a socket (K), adding a rule for the process (a/d).
struct KillConfirm {
    InetSocket socket;
    std::string line;
};
struct RuleConfirm {
    Rule rule;
    std::string exe;
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
    // Processes (the Sockets tab with no process open): the newest table, its order and filter.
    std::shared_ptr<const SocketTableSnapshot> table;
    std::string table_error;
    ProcessOrder proc_order = ProcessOrder::sockets;
    bool proc_reverse = false;
    std::string proc_filter;
    size_t proc_selected = 0;
    size_t proc_top = 0;
    // Sockets of the opened process: its lines across refreshes, all fds or sockets only.
    std::optional<int> open_pid;
    std::string open_name;
    SocketList socket_list;
    bool all_fds = false;
    size_t sock_selected = 0;
    size_t sock_top = 0;
    std::optional<KillConfirm> confirm_kill;
    std::optional<RuleConfirm> confirm_rule;
    HostNameLookup host_names;
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
