// The Sockets tab: the Processes view (every process with sockets, sorted and filtered) and, once
// a process is opened, its socket lines live (DESIGN.md §3 format, via socket_line()).
#pragma once

#include <string>
#include <vector>

#include "core/attribution/socket_table.h"
#include "tui/screen.h"
#include "tui/ui_state.h"

namespace tsnitch::tui {

// The processes the view lists, in its order and through its filter.
std::vector<ProcessSummary> visible_processes(const UiState& st);

// One line of the opened process: a socket (row set) or, with all fds shown, another fd.
struct SocketViewLine {
    int fd = 0;
    std::string text;  // raw (not yet made safe)
    SocketList::Change change = SocketList::Change::steady;
    const SocketRow* row = nullptr;
};
std::vector<SocketViewLine> socket_view_lines(const UiState& st);

void draw_sockets_tab(Screen& s, UiState& st, int top, int rows);

}  // namespace tsnitch::tui
