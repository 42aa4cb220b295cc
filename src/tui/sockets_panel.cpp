#include "tui/sockets_panel.h"

#include <algorithm>
#include <cstdio>
#include <iterator>

#include "tui/dialogs.h"
#include "tui/keys.h"
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

}  // namespace

std::vector<ProcessSummary> ProcessesPanel::visible(const UiModel& m) const {
    std::vector<ProcessSummary> out;
    if (!m.table) return out;
    for (const ProcessSummary& p : m.table->processes)
        if (process_matches(p, filter_.text())) out.push_back(p);
    sort_processes(out, order_, reverse_);
    return out;
}

std::optional<ProcessSummary> ProcessesPanel::selected(const UiModel& m) const {
    const auto procs = visible(m);
    if (procs.empty()) return std::nullopt;
    return procs[std::min(cursor_.selected, procs.size() - 1)];
}

Outcome ProcessesPanel::handle_key(int k, KeyContext& ctx) {
    if (filter_.handle_key(k, cursor_)) return Outcome::handled;
    switch (k) {
        case 's':
        case key::f(6):
            order_ = static_cast<ProcessOrder>((static_cast<int>(order_) + 1) % kProcessOrders);
            return Outcome::handled;
        case 'S':
            reverse_ = !reverse_;
            return Outcome::handled;
        default:
            return cursor_.handle_key(k, ctx.page) ? Outcome::handled : Outcome::ignored;
    }
}

std::vector<Hint> ProcessesPanel::hints() const {
    return {{"Enter", "open"}, {"/", "filter"}, {"s/S", "sort"}};
}

bool ProcessesPanel::draw_bottom_line(Screen& s) const {
    return filter_.draw(s);
}

void ProcessesPanel::draw(Screen& s, const UiModel& m, Clock::time_point) {
    const int top = kBodyTop;
    const int rows = list_rows(s);
    const std::string& filter = filter_.text();
    const int w = s.cols();
    const auto procs = visible(m);
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
    std::string info =
        " sort " + std::string(process_order_name(order_)) + (reverse_ ? " (reversed)" : "") + " ";
    if (!filter.empty())
        info = " filter \"" + s.safe(filter) + "\":" + std::to_string(procs.size()) + info;
    const int name_x = pid_w + user_w + 2 + static_cast<int>(head.size()) * (n_w + 1) + 1;
    const int iw = std::min(display_width(info), std::max(0, w - name_x - 8));
    s.put(top, w - iw, info, iw, s.styles().header | A_BOLD);
    int y = top + 1;
    if (!m.table) {
        s.put(y + 1, 2,
              m.table_error.empty() ? "Reading the socket table..." : s.safe(m.table_error), w - 2,
              m.table_error.empty() ? s.styles().dim : s.styles().warn);
        return;
    }
    if (procs.empty()) {
        s.put(y + 1, 2,
              filter.empty() ? "No process with sockets that this user may see."
                             : "Nothing matches the filter.",
              w - 2, s.styles().dim);
        return;
    }
    cursor_.clamp(procs.size(), rows);
    for (size_t i = cursor_.top; i < procs.size() && y < top + 1 + rows; ++i, ++y) {
        const ProcessSummary& p = procs[i];
        const bool sel = i == cursor_.selected;
        const attr_t a = sel ? s.styles().selected : s.styles().normal;
        if (sel) s.fill(y, 0, w, a);
        std::vector<std::string> counts = {
            std::to_string(p.tcp_established), std::to_string(p.tcp_listen),
            std::to_string(p.tcp_other),       std::to_string(p.udp),
            std::to_string(p.unix_sockets),    bytes_text(p.bytes_sent),
            bytes_text(p.bytes_received)};
        if (rates) {
            const auto r = m.rates.of(p.pid);
            auto rate_text = [](double v) { return bytes_text(static_cast<uint64_t>(v + 0.5)); };
            counts.push_back(r ? rate_text(r->sent) : "-");
            counts.push_back(r ? rate_text(r->received) : "-");
        }
        columns(y, std::to_string(p.pid), s.safe(user_of(p)), counts, process_text(s, p), a);
    }
}

void ProcessSocketsPanel::open(int pid, std::string name) {
    pid_ = pid;
    name_ = std::move(name);
    list_.clear();
    cursor_ = {};
}

void ProcessSocketsPanel::close() {
    pid_.reset();
    name_.clear();
    list_.clear();
    cursor_ = {};
}

void ProcessSocketsPanel::table_arrived(const SocketTableSnapshot& table) {
    if (!pid_ || table.focus_pid != pid_) return;
    list_.update(table.focus ? table.focus->sockets : std::vector<SocketRow>{});
}

std::vector<SocketViewLine> ProcessSocketsPanel::lines(const UiModel& m) const {
    std::vector<SocketViewLine> out;
    for (const SocketList::Entry& e : list_.entries())
        out.push_back({e.row.fd, socket_line(e.row, m.host_names), e.change, &e.row});
    if (all_fds_ && m.table && m.table->focus_pid == pid_) {
        for (const FdLink& f : m.table->focus_fds) {
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

Outcome ProcessSocketsPanel::handle_key(int k, KeyContext& ctx) {
    switch (k) {
        case key::escape:
        case key::left:
        case key::backspace:
            return Outcome::close;
        case 'f':
            all_fds_ = !all_fds_;
            return Outcome::handled;
        case 'K': {
            const auto ls = lines(ctx.model);
            if (ls.empty()) return Outcome::handled;
            const SocketViewLine& l = ls[std::min(cursor_.selected, ls.size() - 1)];
            if (!l.row || !l.row->inet) {
                ctx.host.say("K: only TCP and UDP sockets can be closed");
                return Outcome::handled;
            }
            ctx.host.open(std::make_unique<KillConfirm>(*l.row->inet, l.text));
            return Outcome::handled;
        }
        case 'a':
        case 'd': {
            const ProcessSummary* p = nullptr;
            if (ctx.model.table) {
                for (const ProcessSummary& q : ctx.model.table->processes)
                    if (q.pid == *pid_) p = &q;
            }
            if (!p || p->exe.empty()) {
                ctx.host.say("making a rule for this process: its executable is unknown");
                return Outcome::handled;
            }
            // The selected socket's peer gives the destination scopes; without one (a listener,
            // another fd) only the process's scopes are offered.
            Connection c;
            const auto ls = lines(ctx.model);
            if (!ls.empty()) {
                const SocketViewLine& l = ls[std::min(cursor_.selected, ls.size() - 1)];
                if (l.row && l.row->inet && l.row->inet->has_peer()) {
                    const InetSocket& i = *l.row->inet;
                    c.protocol = i.protocol;
                    c.src = i.src;
                    c.src_port = i.src_port;
                    c.dst = i.dst;
                    c.dst_port = i.dst_port;
                    if (ctx.model.host_names) c.dst_host = ctx.model.host_names(i.dst);
                }
            }
            ProcessInfo info;
            info.pid = p->pid;
            info.uid = p->uid;
            info.user = p->user;
            info.path = p->exe;
            info.comm = p->comm;
            c.uid = p->uid;
            c.process = std::make_shared<const ProcessInfo>(std::move(info));
            ctx.host.open(std::make_unique<RuleFormDialog>(
                PromptForm::for_new_rule(c, k == 'a' ? Action::allow : Action::deny)));
            return Outcome::handled;
        }
        default:
            return cursor_.handle_key(k, ctx.page) ? Outcome::handled : Outcome::ignored;
    }
}

std::vector<Hint> ProcessSocketsPanel::hints() const {
    return {{"Esc", "back"}, {"f", "all fds"}, {"K", "close"}, {"a/d", "rule"}};
}

void ProcessSocketsPanel::draw(Screen& s, const UiModel& m, Clock::time_point) {
    const int top = kBodyTop;
    const int rows = list_rows(s);
    const int w = s.cols();
    const auto shown = lines(m);
    std::string head = "PID " + std::to_string(*pid_) + " " + s.safe(name_);
    size_t nsock = 0;
    for (const auto& l : shown)
        nsock += l.row && l.change != SocketList::Change::closed ? 1 : 0;
    head += "  sockets: " + std::to_string(nsock) + (all_fds_ ? " (all fds shown)" : "");
    s.fill(top, 0, w, s.styles().header);
    s.put(top, 1, head, w - 1, s.styles().header);
    int y = top + 1;
    if (m.table && m.table->focus_pid == pid_ && !m.table->focus_error.empty()) {
        s.put(y, 2, s.safe(m.table->focus_error), w - 2, s.styles().warn);
        ++y;
    }
    if (shown.empty()) {
        s.put(y + 1, 2, "No sockets.", w - 2, s.styles().dim);
        return;
    }
    cursor_.clamp(shown.size(), rows - (y - top - 1));
    for (size_t i = cursor_.top; i < shown.size() && y < top + 1 + rows; ++i, ++y) {
        const SocketViewLine& l = shown[i];
        const bool sel = i == cursor_.selected;
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
    const SocketViewLine& sel = shown[cursor_.selected];
    if (!sel.row) return;
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
    draw_detail(s, detail);
}

Outcome SocketsPanel::handle_key(int k, KeyContext& ctx) {
    if (!sockets_.pid() && k == key::enter && !processes_.typing_filter()) {
        if (const auto p = processes_.selected(ctx.model))
            sockets_.open(p->pid, p->exe.empty() ? p->comm : p->comm + " (" + p->exe + ")");
        return Outcome::handled;
    }
    const Outcome o = current().handle_key(k, ctx);
    if (o != Outcome::close) return o;
    sockets_.close();  // back to the processes
    return Outcome::handled;
}

void SocketsPanel::draw(Screen& s, const UiModel& m, Clock::time_point now) {
    current().draw(s, m, now);
}

std::vector<Hint> SocketsPanel::hints() const {
    return current().hints();
}

bool SocketsPanel::draw_bottom_line(Screen& s) const {
    return current().draw_bottom_line(s);
}

}  // namespace tsnitch::tui
