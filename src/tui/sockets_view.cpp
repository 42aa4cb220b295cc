#include "tui/sockets_view.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "tui/safe_text.h"
#include "tui/view_model.h"

namespace tsnitch::tui {

namespace {

// 0, 512, 1.5K, 23M, 4.0G: at most six columns.
std::string bytes_text(uint64_t n) {
    static constexpr const char* units[] = {"K", "M", "G", "T", "P"};
    if (n < 1024) return std::to_string(n);
    double v = static_cast<double>(n) / 1024;
    size_t u = 0;
    while (v >= 1024 && u + 1 < std::size(units)) {
        v /= 1024;
        ++u;
    }
    char buf[16];
    std::snprintf(buf, sizeof buf, v < 10 ? "%.1f%s" : "%.0f%s", v, units[u]);
    return buf;
}

std::string user_of(const ProcessSummary& p) {
    return p.user.empty() ? std::to_string(p.uid) : p.user;
}

// "python3  /usr/bin/python3 server.py": the command line tells same-named processes apart (as
// htop shows it); without one (kernel threads, unreadable), the executable.
std::string process_text(Screen& s, const ProcessSummary& p) {
    if (!p.cmdline.empty()) return s.safe(p.comm) + "  " + s.safe(p.cmdline);
    return s.safe(p.comm) + (p.exe.empty() ? "" : " (" + s.safe(p.exe) + ")");
}

void draw_processes(Screen& s, UiState& st, int top, int rows) {
    const int w = s.cols();
    const auto procs = visible_processes(st);
    const int pid_w = 7, user_w = 10, n_w = 6;
    // The rates need two more columns: shown from 100 columns on (the process keeps 18).
    const bool rates = w >= 100;
    auto columns = [&](int y, const std::string& pid, const std::string& user,
                       const std::vector<std::string>& counts, const std::string& name, attr_t a) {
        s.put(y, 0, pid, pid_w, a);
        int x = pid_w + 1;
        s.put(y, x, user, user_w, a);
        x += user_w + 1;
        for (const std::string& c : counts) {
            s.put(y, x + std::max(0, n_w - display_width(c)), c, n_w, a);
            x += n_w + 1;
        }
        s.put(y, x + 1, name, std::max(0, w - x - 1), a);
    };
    std::vector<std::string> head = {"Estab", "Listen", "TCP*", "UDP", "Unix", "Sent", "Recv"};
    if (rates) head.insert(head.end(), {"Sent/s", "Recv/s"});
    s.fill(top, 0, w, s.styles().header);
    columns(top, "PID", "User", head, "Process", s.styles().header);
    // The sort and filter on the header's right, over the Process column's title only.
    std::string info = " sort " + std::string(process_order_name(st.proc_order)) +
                       (st.proc_reverse ? " (reversed)" : "") + " ";
    if (!st.proc_filter.empty())
        info = " filter \"" + s.safe(st.proc_filter) + "\":" + std::to_string(procs.size()) + info;
    const int name_x = pid_w + user_w + 2 + static_cast<int>(head.size()) * (n_w + 1) + 1;
    const int iw = std::min(display_width(info), std::max(0, w - name_x - 8));
    s.put(top, w - iw, info, iw, s.styles().header | A_BOLD);
    int y = top + 1;
    if (!st.table) {
        s.put(y + 1, 2,
              st.table_error.empty() ? "Reading the socket table..." : s.safe(st.table_error),
              w - 2, st.table_error.empty() ? s.styles().dim : s.styles().warn);
        return;
    }
    if (procs.empty()) {
        s.put(y + 1, 2,
              st.proc_filter.empty() ? "No process with sockets that this user may see."
                                     : "Nothing matches the filter.",
              w - 2, s.styles().dim);
        return;
    }
    st.procs.clamp(procs.size(), rows);
    for (size_t i = st.procs.top; i < procs.size() && y < top + 1 + rows; ++i, ++y) {
        const ProcessSummary& p = procs[i];
        const bool sel = i == st.procs.selected;
        const attr_t a = sel ? s.styles().selected : s.styles().normal;
        if (sel) s.fill(y, 0, w, a);
        std::vector<std::string> counts = {
            std::to_string(p.tcp_established), std::to_string(p.tcp_listen),
            std::to_string(p.tcp_other),       std::to_string(p.udp),
            std::to_string(p.unix_sockets),    bytes_text(p.bytes_sent),
            bytes_text(p.bytes_received)};
        if (rates) {
            const auto r = st.rates.of(p.pid);
            auto rate_text = [](double v) { return bytes_text(static_cast<uint64_t>(v + 0.5)); };
            counts.push_back(r ? rate_text(r->sent) : "-");
            counts.push_back(r ? rate_text(r->received) : "-");
        }
        columns(y, std::to_string(p.pid), s.safe(user_of(p)), counts, process_text(s, p), a);
    }
}

void draw_open_process(Screen& s, UiState& st, int top, int rows) {
    const int w = s.cols();
    const auto lines = socket_view_lines(st);
    std::string head = "PID " + std::to_string(*st.open_pid) + " " + s.safe(st.open_name);
    size_t nsock = 0;
    for (const auto& l : lines)
        nsock += l.row && l.change != SocketList::Change::closed ? 1 : 0;
    head += "  sockets: " + std::to_string(nsock) + (st.all_fds ? " (all fds shown)" : "");
    s.fill(top, 0, w, s.styles().header);
    s.put(top, 1, head, w - 1, s.styles().header);
    int y = top + 1;
    if (st.table && st.table->focus_pid == st.open_pid && !st.table->focus_error.empty()) {
        s.put(y, 2, s.safe(st.table->focus_error), w - 2, s.styles().warn);
        ++y;
    }
    if (lines.empty()) {
        s.put(y + 1, 2, "No sockets.", w - 2, s.styles().dim);
        return;
    }
    st.socks.clamp(lines.size(), rows - (y - top - 1));
    for (size_t i = st.socks.top; i < lines.size() && y < top + 1 + rows; ++i, ++y) {
        const SocketViewLine& l = lines[i];
        const bool sel = i == st.socks.selected;
        attr_t a = l.change == SocketList::Change::added    ? s.styles().allow
                   : l.change == SocketList::Change::closed ? s.styles().dim
                   : !l.row                                 ? s.styles().dim
                                                            : s.styles().normal;
        if (sel) a = s.styles().selected;
        if (sel) s.fill(y, 0, w, a);
        const std::string mark = l.change == SocketList::Change::added    ? "+ "
                                 : l.change == SocketList::Change::closed ? "- "
                                                                          : "  ";
        s.put(y, 0, mark + s.safe(l.text), w, a);
    }
    // The selected socket's other fields, above the bottom line.
    const SocketViewLine& sel = lines[st.socks.selected];
    const int dy = s.rows() - 2;
    if (!sel.row || dy <= top + 1) return;
    std::string detail;
    if (sel.row->inet) {
        const InetSocket& i = *sel.row->inet;
        detail = std::string(protocol_name(i.protocol)) + (i.family == Family::v6 ? "6" : "") +
                 "  uid " + std::to_string(i.uid) + "  cookie " + std::to_string(i.cookie) +
                 "  queues " + std::to_string(i.rqueue) + "/" + std::to_string(i.wqueue);
        if (i.protocol == Protocol::tcp)  // sock_diag counts no UDP bytes
            detail +=
                "  sent " + bytes_text(i.bytes_sent) + "  received " + bytes_text(i.bytes_received);
    } else if (sel.row->unix_socket) {
        detail = "unix  peer socket[" + std::to_string(sel.row->unix_socket->peer_inode) + "]";
    } else {
        detail = "not listed by sock_diag (netlink, packet, or another network namespace)";
    }
    s.fill(dy, 0, w, s.styles().dim);
    s.put(dy, 1, detail, w - 1, s.styles().title);
}

}  // namespace

std::vector<ProcessSummary> visible_processes(const UiState& st) {
    std::vector<ProcessSummary> out;
    if (!st.table) return out;
    for (const ProcessSummary& p : st.table->processes)
        if (process_matches(p, st.proc_filter)) out.push_back(p);
    sort_processes(out, st.proc_order, st.proc_reverse);
    return out;
}

std::vector<SocketViewLine> socket_view_lines(const UiState& st) {
    std::vector<SocketViewLine> out;
    for (const SocketList::Entry& e : st.socket_list.entries())
        out.push_back({e.row.fd, socket_line(e.row, st.host_names), e.change, &e.row});
    if (st.all_fds && st.table && st.table->focus_pid == st.open_pid) {
        for (const FdLink& f : st.table->focus_fds) {
            if (f.target.starts_with("socket:[")) continue;
            out.push_back({f.fd, std::to_string(f.fd) + " -> " + f.target,
                           SocketList::Change::steady, nullptr});
        }
        std::stable_sort(
            out.begin(), out.end(),
            [](const SocketViewLine& a, const SocketViewLine& b) { return a.fd < b.fd; });
    }
    return out;
}

void draw_sockets_tab(Screen& s, UiState& st, int top, int rows) {
    if (st.open_pid)
        draw_open_process(s, st, top, rows);
    else
        draw_processes(s, st, top, rows);
}

}  // namespace tsnitch::tui
