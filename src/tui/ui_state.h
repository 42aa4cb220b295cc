// Everything the main screen shows and where the person is in it; owned by the UI loop
// (app.cpp), drawn by views.cpp.
#pragma once

#include <chrono>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <variant>
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
    int field = 0;              // 0 action, 1 duration
    Action was = Action::deny;  // the rule's action before the edit (the name may say it)
    Action action = Action::deny;
    size_t duration = 0;  // index into rule_durations()
};

// The Sockets view's dialog for closing a socket (K).
struct KillConfirm {
    InetSocket socket;
    std::string line;
};
// The Rules view's question before deleting a rule (x).
struct DeleteConfirm {
    std::string name;
};
// A rule being made from a Sockets or Connections row (a/d): the prompt's form, no prompt.
struct RuleForm {
    PromptForm form;
};
// The one dialog open over the views (at most one at a time): it takes the keys until it closes.
using Dialog = std::variant<KillConfirm, DeleteConfirm, RuleEdit, RuleForm>;

struct UiState {
    explicit UiState(const TuiOptions& o) : options(o), log(o.max_events) {}

    TuiOptions options;
    EngineStatus status;
    EventLog log;
    std::vector<RuleSummary> rules;      // by name
    std::vector<PendingPrompt> pending;  // oldest first, without those answered here
    std::vector<uint64_t> answered;      // answered here, until the backend drops them too
    std::optional<PromptForm> form;      // the prompt on screen (the oldest pending)
    std::optional<Dialog> dialog;        // under the prompt: a prompt takes the keys first

    View view = View::connections;
    // Connections: the filter, whether it is being typed, the selected row (0: newest).
    std::string filter;
    bool editing_filter = false;
    ListCursor conn;
    // Rules: the selected row and the order.
    ListCursor rule_list;
    RuleOrder rule_order = RuleOrder::name;
    // Log: the newest lines (at most kMaxLogLines), scrolled back by log_back lines.
    std::deque<LogLine> log_lines;
    size_t log_back = 0;
    // Processes (the Sockets tab with no process open): the newest table, its order and filter.
    std::shared_ptr<const SocketTableSnapshot> table;
    std::string table_error;
    TrafficRates rates;  // bytes/s between the last two tables
    ProcessOrder proc_order = ProcessOrder::sockets;
    bool proc_reverse = false;
    std::string proc_filter;
    ListCursor procs;
    // Sockets of the opened process: its lines across refreshes, all fds or sockets only.
    std::optional<int> open_pid;
    std::string open_name;
    SocketList socket_list;
    bool all_fds = false;
    ListCursor socks;
    HostNameLookup host_names;
    // Help: scrolling, and the view that Esc goes back to.
    ListCursor help;  // selected: the first line shown
    View before_help = View::connections;

    bool confirm_quit = false;
    std::string message;  // shown in the bottom line for a few seconds (errors of commands)
    std::chrono::steady_clock::time_point message_until;
};

// Draws the whole screen: status line, tabs, the current view, dialogs, and the prompt on top.
void draw_ui(Screen& s, UiState& st, std::chrono::steady_clock::time_point now);
// Rows the current list view shows (for paging).
int list_rows(const Screen& s);

}  // namespace tsnitch::tui
