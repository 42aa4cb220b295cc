// The Sockets tab: the Processes panel (every process with sockets, sorted and filtered) and,
// once a process is opened (Enter), the panel of its socket lines, live (DESIGN.md §3 format, via
// socket_line()). Esc goes back to the processes, which kept their place.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/attribution/socket_table.h"
#include "tui/filter_line.h"
#include "tui/panel.h"

namespace tsnitch::tui {

class ProcessesPanel : public Panel {
  public:
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    std::vector<Hint> hints() const override;
    bool draw_bottom_line(Screen& s) const override;

    // The processes listed, in the panel's order and through its filter.
    std::vector<ProcessSummary> visible(const UiModel& m) const;
    // The selected one of those, if any.
    std::optional<ProcessSummary> selected(const UiModel& m) const;
    bool typing_filter() const { return filter_.editing(); }
    const ListCursor& cursor() const { return cursor_; }

  private:
    ProcessOrder order_ = ProcessOrder::sockets;
    bool reverse_ = false;
    FilterLine filter_;
    ListCursor cursor_;
};

// One line of the opened process: a socket (row set) or, with all fds shown, another fd.
struct SocketViewLine {
    int fd = 0;
    std::string text;  // raw (not yet made safe)
    SocketList::Change change = SocketList::Change::steady;
    const SocketRow* row = nullptr;
};

class ProcessSocketsPanel : public Panel {
  public:
    // Esc/Left/Backspace: close (back to the processes).
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    std::vector<Hint> hints() const override;

    void open(int pid, std::string name);
    void close();
    std::optional<int> pid() const { return pid_; }
    bool all_fds() const { return all_fds_; }
    // A new socket table: its lines for this process, when it has them (a process that ended
    // has no sockets left: its lines fade out like closed ones).
    void table_arrived(const SocketTableSnapshot& table);
    std::vector<SocketViewLine> lines(const UiModel& m) const;

  private:
    std::optional<int> pid_;
    std::string name_;
    SocketList list_;
    bool all_fds_ = false;
    ListCursor cursor_;
};

class SocketsPanel : public Panel {
  public:
    Outcome handle_key(int key, KeyContext& ctx) override;
    void draw(Screen& s, const UiModel& m, Clock::time_point now) override;
    std::vector<Hint> hints() const override;
    bool draw_bottom_line(Screen& s) const override;

    // What the socket-table subscription asks for: the opened process in full.
    std::optional<int> focus_pid() const { return sockets_.pid(); }
    bool all_fds() const { return sockets_.all_fds(); }
    void table_arrived(const SocketTableSnapshot& table) { sockets_.table_arrived(table); }
    const ProcessesPanel& processes() const { return processes_; }
    const ProcessSocketsPanel& sockets() const { return sockets_; }

  private:
    Panel& current() { return sockets_.pid() ? static_cast<Panel&>(sockets_) : processes_; }
    const Panel& current() const {
        return sockets_.pid() ? static_cast<const Panel&>(sockets_) : processes_;
    }

    ProcessesPanel processes_;
    ProcessSocketsPanel sockets_;
};

}  // namespace tsnitch::tui
