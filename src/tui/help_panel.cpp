#include "tui/help_panel.h"

#include <algorithm>
#include <string_view>
#include <utility>
#include <vector>

#include "tui/keys.h"

namespace tsnitch::tui {

namespace {

const std::vector<std::pair<std::string_view, std::string_view>>& help_lines() {
    static const std::vector<std::pair<std::string_view, std::string_view>> lines = {
        {"", "Views"},
        {"1  F2", "Connections: every decision, newest first"},
        {"2  F3", "Rules: in evaluation order, with hits"},
        {"3  F4", "Stats: top hosts, processes, ports and users"},
        {"4  F5", "Sockets: processes with sockets; Enter: one's sockets, live"},
        {"5  F6", "Log: messages of the firewall (Up: older)"},
        {"?  F1", "this help (Up/Down scroll; Esc: back)"},
        {"q  F10", "quit; asks first, as it removes the firewall"},
        {"", "Prompt"},
        {"a  d  r", "allow / deny / reject with what is selected"},
        {"Tab  Up  Down", "move between action, duration and scope"},
        {"Left  Right", "change the action, duration or scope"},
        {"Enter", "confirm the selected action"},
        {"Esc", "the default answer, as when the countdown ends"},
        {"", "(keys typed as a prompt appears are ignored)"},
        {"", "Connections"},
        {"/", "filter: process, host, address, port, user, rule"},
        {"Up Down PgUp PgDn", "scroll; Home: newest; Esc clears the filter"},
        {"a  d", "make a rule for the selected connection (the prompt's form)"},
        {"", "Rules"},
        {"Space", "enable or disable the selected rule"},
        {"e  Enter", "change its action and duration"},
        {"x  Del", "delete it (asks first)"},
        {"s", "sort by name (evaluation order) or by hits"},
        {"", "Sockets: processes"},
        {"s  F6", "next sort column (sockets, pid, user, name, counts, traffic)"},
        {"", "(Sent/Recv: TCP payload of the sockets open now, from tcp_info)"},
        {"", "(Sent/s Recv/s: per second since the last refresh; UDP: not counted)"},
        {"S", "reverse the order"},
        {"/", "filter: pid, user, name, executable, command line"},
        {"Enter", "open the process: its sockets, refreshed live (1 s)"},
        {"", "Sockets: one process"},
        {"f", "all fds, not only sockets (1 -> /dev/pts/0)"},
        {"K", "close the selected TCP/UDP socket (SOCK_DESTROY; asks first)"},
        {"a  d", "make a rule for the process and the selected socket's peer"},
        {"", "(the prompt's form: action, duration, scope; Esc cancels; tsnitch run)"},
        {"Esc  Left", "back to the processes"},
        {"", "(+ new since the last refresh, - closed)"},
    };
    return lines;
}

// The monitor's help: only the sections about its socket views, and its own quit key.
std::vector<std::pair<std::string_view, std::string_view>> monitor_help_lines() {
    std::vector<std::pair<std::string_view, std::string_view>> out = {
        {"", "Monitor (no interception)"}, {"?  F1", "this help (Esc: back)"}, {"q  F10", "quit"}};
    bool keep = false;
    for (const auto& l : help_lines()) {
        if (l.first.empty() && l.second.front() != '(') keep = l.second.starts_with("Sockets");
        if (keep) out.push_back(l);
    }
    return out;
}

}  // namespace

HelpPanel::HelpPanel(bool monitor) : lines_(monitor ? monitor_help_lines() : help_lines()) {}

Outcome HelpPanel::handle_key(int k, KeyContext& ctx) {
    if (k == key::escape) return Outcome::close;
    return scroll_.handle_key(k, ctx.page) ? Outcome::handled : Outcome::ignored;
}

void HelpPanel::draw(Screen& s, const UiModel&, Clock::time_point) {
    const auto& lines = lines_;
    const int h = s.rows() - 1 - kBodyTop;
    scroll_.selected =
        std::min(scroll_.selected,
                 lines.size() > static_cast<size_t>(h) ? lines.size() - static_cast<size_t>(h) : 0);
    int y = kBodyTop;
    for (size_t i = scroll_.selected; i < lines.size() && y < s.rows() - 1; ++i, ++y) {
        const auto& [k, text] = lines[i];
        if (k.empty() && text.front() != '(') {
            s.put(y, 1, text, s.cols() - 1, s.styles().title | A_UNDERLINE);
            continue;
        }
        s.put(y, 2, k, 18, s.styles().key);
        s.put(y, 21, text, s.cols() - 21, k.empty() ? s.styles().dim : s.styles().normal);
    }
}

}  // namespace tsnitch::tui
