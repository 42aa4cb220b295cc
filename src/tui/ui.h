// The terminal UI without the terminal loop: the daemon's events applied to the UiModel, keys
// routed to the panels, the screen drawn. Keys go to the dialog on top of the stack first, then
// down the stack while a dialog ignores them, then to the current view's panel, and last to the
// view keys (1-5, ?, q). Each view's panel keeps its place while another view is shown.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "tui/connections_panel.h"
#include "tui/help_panel.h"
#include "tui/log_panel.h"
#include "tui/panel.h"
#include "tui/rules_panel.h"
#include "tui/sockets_panel.h"
#include "tui/stats_panel.h"
#include "tui/tui.h"

namespace tsnitch::tui {

enum class View { connections, rules, stats, sockets, log, help };

class PromptPanel;

class Ui : private PanelHost {
  public:
    Ui(DaemonLink& link, const TuiOptions& options);
    ~Ui();
    Ui(const Ui&) = delete;
    Ui& operator=(const Ui&) = delete;

    void apply(std::vector<DaemonEvent> events, Clock::time_point now);
    // One key (keys.h); `page`: the rows of a list page on this screen.
    void handle_key(int key, Clock::time_point now, size_t page);
    // Asks for the socket table while the Sockets tab shows, with the opened process in full.
    void update_socket_subscription();
    void draw(Screen& s, Clock::time_point now);

    // The person quit, or the daemon stopped (then stop_reason() says why).
    bool done() const { return quit_; }
    const std::string& stop_reason() const { return stop_reason_; }
    bool prompt_shown() const { return prompt_ != nullptr; }

    View view() const { return view_; }
    const UiModel& model() const { return model_; }
    // The dialogs, bottom first: the last one takes the keys.
    const std::vector<std::unique_ptr<Panel>>& dialogs() const { return dialogs_; }
    const Panel* top_dialog() const { return dialogs_.empty() ? nullptr : dialogs_.back().get(); }
    const ConnectionsPanel& connections() const { return connections_; }
    const RulesPanel& rules() const { return rules_; }
    const SocketsPanel& sockets() const { return sockets_; }
    const LogPanel& log() const { return log_; }
    const HelpPanel& help() const { return help_; }
    const std::string& message() const { return message_; }

  private:
    // PanelHost
    void send(Command body, std::string what, std::string on_success) override;
    void open(std::unique_ptr<Panel> dialog) override;
    void answer_prompt(uint64_t id, const Answer& answer) override;
    void ask_quit() override;
    void quit() override { quit_ = true; }
    void say(std::string text) override;

    Panel& panel(View v);
    bool available(View v) const;  // the monitor shows only some views
    void close(const Panel* dialog);
    void handle_view_key(int key, KeyContext& ctx);
    void apply_event(DaemonEvent& e, Clock::time_point now);
    void apply_snapshot(Snapshot& s, Clock::time_point now);
    // New decisions: counted as rule hits, then logged.
    void apply_decisions(std::vector<DecisionEvent> events);
    // Only logged (the Connections view and the log), e.g. those a Snapshot carries.
    void log_decisions(std::vector<DecisionEvent> events);
    void apply_table(SocketTableUpdate& u);
    void add_log_line(const LogRecord& l);
    // The prompt on screen is always the oldest pending one; a new one starts its key delay.
    void sync_prompt(Clock::time_point now);
    void draw_tabs(Screen& s);
    void draw_bottom(Screen& s, Clock::time_point now);

    // A command on its way; its CommandResult says how it went.
    struct Sent {
        std::string what;
        std::string on_success;
    };

    DaemonLink& link_;
    UiModel model_;
    ConnectionsPanel connections_;
    RulesPanel rules_;
    StatsPanel stats_;
    SocketsPanel sockets_;
    LogPanel log_;
    HelpPanel help_;
    View view_ = View::connections;
    View before_help_ = View::connections;         // where Esc in Help goes back to
    std::vector<std::unique_ptr<Panel>> dialogs_;  // by layer, bottom first
    PromptPanel* prompt_ = nullptr;                // in dialogs_ while a prompt is pending
    std::string message_;  // the bottom line for a few seconds (errors of commands)
    Clock::time_point message_until_;
    uint64_t next_request_ = 1;
    std::map<uint64_t, Sent> sent_;
    // What the socket-table subscription asks for now.
    bool sockets_on_ = false;
    std::optional<int> sockets_focus_;
    bool sockets_all_fds_ = false;
    bool quit_ = false;
    std::string stop_reason_;
};

}  // namespace tsnitch::tui
