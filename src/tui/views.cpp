// The main screen: status line, view tabs, the views themselves, the bottom line and dialogs.
#include <algorithm>
#include <ctime>
#include <string>
#include <vector>

#include "tui/prompt_view.h"
#include "tui/safe_text.h"
#include "tui/screen.h"
#include "tui/sockets_view.h"
#include "tui/ui_state.h"
#include "tui/view_model.h"

namespace tsnitch::tui {

namespace {

using Clock = std::chrono::steady_clock;

constexpr int kBodyTop = 2;  // status line, tabs

std::string duration_text(const RuleDuration& d) {
    return d.kind == RuleDuration::Kind::until_restart ? "restart" : d.to_string();
}

void draw_monitor_status(Screen& s, const UiState& st) {
    const std::string sep = " " + std::string(s.glyphs().sep) + " ";
    std::string text = " tsnitch monitor" + sep + "no interception";
    if (st.table) {
        text += sep + std::to_string(st.table->processes.size()) + " processes, " +
                std::to_string(st.table->sockets) + " sockets" + sep + "refresh " +
                std::to_string(st.table->cpu.count() / 1000) + "." +
                std::to_string(st.table->cpu.count() / 100 % 10) + " ms CPU";
    }
    s.fill(0, 0, s.cols(), s.styles().status);
    s.put(0, 0, text, s.cols(), s.styles().status);
}

void draw_status(Screen& s, const UiState& st) {
    if (st.options.monitor) {
        draw_monitor_status(s, st);
        return;
    }
    const EngineStatus& e = st.status;
    const int w = s.cols();
    const std::string sep = " " + std::string(s.glyphs().sep) + " ";
    const std::string counts_long = "allowed " + std::to_string(e.allowed) + "  denied " +
                                    std::to_string(e.denied) + "  rejected " +
                                    std::to_string(e.rejected);
    const std::string counts_short = "allow " + std::to_string(e.allowed) + " deny " +
                                     std::to_string(e.denied) + " reject " +
                                     std::to_string(e.rejected);
    const std::string state = e.intercepting ? std::string(s.glyphs().on) + " intercepting"
                                             : std::string(s.glyphs().off) + " NOT intercepting";
    const std::string method = std::string(method_name(e.method));
    const std::string rules = std::to_string(e.rule_count) + " rules";
    const std::string pending = std::to_string(e.pending_count) + " pending";
    const std::string fw = e.firewall.empty() ? "no firewall" : s.safe(e.firewall);
    const std::string queues =
        e.queue_count > 1
            ? std::to_string(e.queue_num) + "-" + std::to_string(e.queue_num + e.queue_count - 1)
            : std::to_string(e.queue_num);
    // Packets the kernel dropped are shown in every width: traffic was lost.
    const std::string dropped =
        e.queue_dropped ? " dropped " + std::to_string(e.queue_dropped) : std::string();
    const std::string full = " tsnitch" + sep + state + " (queue" +
                             (e.queue_count > 1 ? "s " : " ") + queues + ")" + sep +
                             "attribution " + method + sep + fw + sep + rules + sep + pending +
                             sep + counts_long + dropped;
    const std::string medium = " " + state + " q" + queues + "  " + method + "  " + fw + "  " +
                               rules + "  " + pending + "  " + counts_short + dropped;
    const std::string shorter = " " + std::string(e.intercepting ? s.glyphs().on : s.glyphs().off) +
                                " q" + queues + "  " + method + "  " + fw + "  " + rules + "  " +
                                pending + "  " + counts_short + dropped;
    const std::string tiny = " " + std::string(e.intercepting ? s.glyphs().on : s.glyphs().off) +
                             " q" + queues + " " + method + " " + std::to_string(e.pending_count) +
                             " pending " + counts_short + dropped;
    s.fill(0, 0, w, s.styles().status);
    std::string text = tiny;
    for (const std::string* t : {&full, &medium, &shorter}) {
        if (display_width(*t) <= w) {
            text = *t;
            break;
        }
    }
    s.put(0, 0, text, w, s.styles().status | (e.intercepting ? 0 : A_BOLD));
}

void draw_tabs(Screen& s, const UiState& st) {
    struct Tab {
        View view;
        std::string_view text;
    };
    static constexpr Tab tabs[] = {
        {View::connections, "1 Connections"}, {View::rules, "2 Rules"}, {View::stats, "3 Stats"},
        {View::sockets, "4 Sockets"},         {View::log, "5 Log"},     {View::help, "? Help"}};
    int col = 0;
    for (const Tab& t : tabs) {
        // The monitor has no decisions, rules or log: only its socket views and help.
        if (st.options.monitor && t.view != View::sockets && t.view != View::help) continue;
        const bool active = t.view == st.view;
        const std::string text =
            active ? "[" + std::string(t.text) + "]" : " " + std::string(t.text) + " ";
        col +=
            s.put(1, col, text, s.cols() - col, active ? s.styles().selected : s.styles().normal);
        col += s.put(1, col, " ", s.cols() - col, s.styles().normal);
    }
    if (!st.status.fallback_notice.empty()) {
        const std::string note = s.safe(st.status.fallback_notice);
        const int room = s.cols() - col - 1;
        if (room > 8) {
            const int nw = std::min(display_width(note), room);
            s.put(1, s.cols() - nw, note, nw, s.styles().warn);
        }
    }
}

void draw_bottom(Screen& s, const UiState& st, Clock::time_point now) {
    const int y = s.rows() - 1;
    const int w = s.cols();
    s.fill(y, 0, w, s.styles().normal);
    if (st.editing_filter) {
        int col = s.put(y, 0, "Filter: ", w, s.styles().key);
        const std::string& f = st.view == View::sockets ? st.proc_filter : st.filter;
        col += s.put(y, col, s.safe(f), w - col - 1, s.styles().normal);
        s.put(y, col, "_", w - col, s.styles().key | A_BLINK);
        s.put(y, col + 2, "Enter keep  Esc clear", w - col - 2, s.styles().dim);
        return;
    }
    if (!st.message.empty() && now < st.message_until) {
        s.put(y, 0, s.safe(st.message), w, s.styles().warn);
        return;
    }
    std::vector<std::pair<std::string_view, std::string_view>> hints;
    switch (st.view) {
        case View::connections:
            hints = {{"/", "filter"}, {"\xe2\x86\x91\xe2\x86\x93", "scroll"}};
            break;
        case View::rules:
            hints = {{"Space", "on/off"}, {"e", "edit"}, {"x", "delete"}, {"s", "sort"}};
            break;
        case View::sockets:
            if (st.open_pid)
                hints = {{"Esc", "back"}, {"f", "all fds"}, {"K", "close"}, {"a/d", "rule"}};
            else
                hints = {{"Enter", "open"}, {"/", "filter"}, {"s/S", "sort"}};
            break;
        default:
            break;
    }
    if (!st.options.monitor) hints.push_back({"1-5", "views"});
    hints.push_back({"?", "help"});
    hints.push_back({"q", "quit"});
    int col = 0;
    for (const auto& [k, t] : hints) {
        const std::string key =
            k == "\xe2\x86\x91\xe2\x86\x93" && !s.utf8() ? "Up/Dn" : std::string(k);
        if (col + display_width(key) + 1 + display_width(t) > w) break;
        col += s.put(y, col, key, w - col, s.styles().key);
        col += s.put(y, col, " " + std::string(t) + "  ", w - col, s.styles().normal);
    }
}

void draw_centered(Screen& s, int y, std::string_view text, attr_t attr) {
    const int w = display_width(text);
    s.put(y, std::max(0, (s.cols() - w) / 2), text, s.cols(), attr);
}

// The selected row in full, above the bottom line: the columns cut what a wide screen would show.
void draw_detail(Screen& s, const std::string& safe) {
    const int y = s.rows() - 2;
    if (y <= kBodyTop + 1) return;
    s.fill(y, 0, s.cols(), s.styles().dim);
    s.put(y, 1, safe, s.cols() - 1, s.styles().title);
}

std::string event_detail(const Screen& s, const DecisionEvent& e) {
    const Connection& c = e.connection;
    std::string out;
    if (c.process) {
        out = s.safe(c.process->path.empty() ? c.process->comm : c.process->path) + " (pid " +
              std::to_string(c.process->pid) + ", " +
              (c.process->user.empty() ? "uid " + std::to_string(c.process->uid)
                                       : s.safe(c.process->user)) +
              ")";
    } else {
        out = "unknown process";
    }
    out += " " + std::string(s.glyphs().arrow) + " ";
    if (c.dst_host) out += s.safe(*c.dst_host) + " ";
    out += c.dst.to_string();
    if (protocol_has_ports(c.protocol)) out += " port " + std::to_string(c.dst_port);
    out += " " + std::string(protocol_name(c.protocol)) + "  " +
           std::string(action_name(e.action)) + " by " + s.safe(event_rule(e));
    return out;
}

void draw_connections(Screen& s, UiState& st) {
    const int w = s.cols();
    const auto rows = st.log.filtered(st.filter);
    int y = kBodyTop;
    // Columns: time, action, process, destination, rule; a wide screen adds pid, user and
    // protocol, and gives process, destination and rule the rest.
    const bool wide = w >= 120;
    const int time_w = 8;
    const int action_w = 6;
    const int pid_w = wide ? 7 : 0;
    const int user_w = wide ? 12 : 0;
    const int proto_w = wide ? 7 : 0;
    const int rest =
        std::max(0, w - time_w - action_w - 4 - (wide ? pid_w + user_w + proto_w + 3 : 0));
    const int proc_w = std::clamp(rest / 4, 8, 30);
    const int dest_w = std::clamp(rest * 4 / 10, 10, 50);
    const int rule_w = std::max(0, rest - proc_w - dest_w);
    struct Cell {
        int width;
        std::string text;
        attr_t attr;
    };
    auto row = [&](int yy, const std::vector<Cell>& cells) {
        int x = 0;
        for (const Cell& c : cells) {
            if (c.width <= 0) continue;
            s.put(yy, x, c.text, c.width, c.attr);
            x += c.width + 1;
        }
    };
    auto columns = [&](int yy, const std::string& t, const std::string& a, const std::string& p,
                       const std::string& d, const std::string& r, attr_t base, attr_t act,
                       const std::string& pid = "PID", const std::string& user = "User",
                       const std::string& proto = "Proto") {
        row(yy, {{time_w, t, base},
                 {action_w, a, act},
                 {pid_w, pid, base},
                 {proc_w, p, base},
                 {user_w, user, base},
                 {proto_w, proto, base},
                 {dest_w, d, base},
                 {rule_w, r, base}});
    };
    s.fill(y, 0, w, s.styles().header);
    columns(y, "Time", "Action", "Process", "Destination", "Rule", s.styles().header,
            s.styles().header);
    if (!st.filter.empty()) {
        const std::string f = " filter \"" + s.safe(st.filter) +
                              "\": " + std::to_string(rows.size()) + " of " +
                              std::to_string(st.log.size()) + " ";
        const int fw = std::min(display_width(f), w);
        s.put(y, w - fw, f, fw, s.styles().header | A_BOLD);
    }
    ++y;
    const int visible = list_rows(s);
    if (rows.empty()) {
        draw_centered(s, y + 1,
                      st.filter.empty() ? "No connections yet: decisions appear here as they are "
                                          "made."
                                        : "Nothing matches the filter.",
                      s.styles().dim);
        return;
    }
    clamp_scroll(st.conn_selected, st.conn_top, rows.size(), visible);
    for (size_t i = st.conn_top; i < rows.size() && y < kBodyTop + 1 + visible; ++i, ++y) {
        const DecisionEvent& e = *rows[i];
        const bool sel = i == st.conn_selected;
        const attr_t base = sel ? s.styles().selected : s.styles().normal;
        if (sel) s.fill(y, 0, w, base);
        const auto& proc = e.connection.process;
        columns(y, event_time(e), std::string(action_name(e.action)), s.safe(event_process(e)),
                s.safe(event_destination(e)), s.safe(event_rule(e)), base,
                sel ? base : action_style(s.styles(), e.action),
                proc ? std::to_string(proc->pid) : "",
                proc ? (proc->user.empty() ? std::to_string(proc->uid) : s.safe(proc->user)) : "",
                std::string(protocol_name(e.connection.protocol)));
    }
    draw_detail(s, event_detail(s, *rows[st.conn_selected]));
}

void draw_rules(Screen& s, UiState& st) {
    const int w = s.cols();
    int y = kBodyTop;
    const int on_w = 3, action_w = 6, dur_w = 8, hits_w = 6;
    const int rest = std::max(0, w - on_w - action_w - dur_w - hits_w - 5);
    const int name_w = std::clamp(rest * 55 / 100, 10, 60);
    const int op_w = std::max(0, rest - name_w - 1);
    auto columns = [&](int yy, const std::string& on, const std::string& a, const std::string& d,
                       const std::string& h, const std::string& n, const std::string& o,
                       attr_t base, attr_t act) {
        int x = 0;
        s.put(yy, x, on, on_w, base);
        x += on_w + 1;
        s.put(yy, x, a, action_w, act);
        x += action_w + 1;
        s.put(yy, x, d, dur_w, base);
        x += dur_w + 1;
        const int hw = display_width(h);
        s.put(yy, x + std::max(0, hits_w - hw), h, hits_w, base);
        x += hits_w + 1;
        s.put(yy, x, n, name_w, base);
        x += name_w + 1;
        s.put(yy, x, o, op_w, base);
    };
    s.fill(y, 0, w, s.styles().header);
    const bool by_hits = st.rule_order == RuleOrder::hits;
    const std::string down = s.utf8() ? "\xe2\x86\x93" : "v";  // the column sorted on
    columns(y, "On", "Action", "Duration", by_hits ? "Hits" + down : "Hits",
            by_hits ? "Name" : "Name" + down, "Operator", s.styles().header, s.styles().header);
    ++y;
    const int visible = list_rows(s);
    if (st.rules.empty()) {
        draw_centered(s, y + 1, "No rules yet: answers to prompts create them.", s.styles().dim);
        return;
    }
    clamp_scroll(st.rule_selected, st.rule_top, st.rules.size(), visible);
    for (size_t i = st.rule_top; i < st.rules.size() && y < kBodyTop + 1 + visible; ++i, ++y) {
        const RuleSummary& r = st.rules[i];
        const bool sel = i == st.rule_selected;
        const attr_t base =
            sel ? s.styles().selected : (r.enabled ? s.styles().normal : s.styles().dim);
        if (sel) s.fill(y, 0, w, base);
        columns(y, r.enabled ? "on" : "off", std::string(action_name(r.action)),
                duration_text(r.duration), std::to_string(r.hits), s.safe(r.name),
                s.safe(r.summary), base, sel ? base : action_style(s.styles(), r.action));
    }
    const RuleSummary& r = st.rules[st.rule_selected];
    draw_detail(s, s.safe(r.name) + ": " + s.safe(r.summary));
}

void draw_table(Screen& s, int y, int x, int w, int h, std::string_view title,
                const std::vector<Counted>& rows) {
    if (h < 2 || w < 12) return;
    s.fill(y, x, w, s.styles().header);
    s.put(y, x, std::string(title), w, s.styles().header);
    const std::string head = "count blocked";
    s.put(y, x + w - display_width(head), head, display_width(head), s.styles().header);
    for (int i = 0; i < h - 1; ++i) {
        if (static_cast<size_t>(i) >= rows.size()) {
            if (i == 0) s.put(y + 1, x, "(none yet)", w, s.styles().dim);
            break;
        }
        const Counted& c = rows[static_cast<size_t>(i)];
        char nums[32];
        std::snprintf(nums, sizeof nums, "%5llu %7llu", static_cast<unsigned long long>(c.count),
                      static_cast<unsigned long long>(c.blocked));
        const int nw = display_width(nums);
        s.put(y + 1 + i, x, truncate_left(s.safe(c.key), w - nw - 1, s.glyphs().ellipsis),
              w - nw - 1, s.styles().normal);
        s.put(y + 1 + i, x + w - nw, nums, nw, c.blocked ? s.styles().warn : s.styles().normal);
    }
}

void draw_stats(Screen& s, const UiState& st) {
    const StatsTables t = compute_stats(st.log, st.options.max_stats);
    const int top = kBodyTop;
    const int h = s.rows() - 1 - top;
    const int w = s.cols();
    if (w >= 70) {  // 2 x 2
        const int cw = (w - 2) / 2;
        const int ch = h / 2;
        draw_table(s, top, 0, cw, ch - 1, "Top hosts", t.hosts);
        draw_table(s, top, cw + 2, cw, ch - 1, "Top processes", t.processes);
        draw_table(s, top + ch, 0, cw, h - ch, "Top ports", t.ports);
        draw_table(s, top + ch, cw + 2, cw, h - ch, "Top users", t.users);
    } else {  // stacked
        const int ch = std::max(2, h / 4);
        draw_table(s, top, 0, w, ch, "Top hosts", t.hosts);
        draw_table(s, top + ch, 0, w, ch, "Top processes", t.processes);
        draw_table(s, top + 2 * ch, 0, w, ch, "Top ports", t.ports);
        draw_table(s, top + 3 * ch, 0, w, h - 3 * ch, "Top users", t.users);
    }
}

// Newest at the bottom, like a terminal; Up scrolls back.
void draw_log(Screen& s, UiState& st) {
    const auto& lines = st.log_lines;
    const int h = s.rows() - 1 - kBodyTop;
    if (lines.empty()) {
        draw_centered(s, kBodyTop + 1, "No messages.", s.styles().dim);
        return;
    }
    st.log_back = std::min(st.log_back, lines.size() - 1);
    const size_t end = lines.size() - st.log_back;  // one past the last line shown
    const size_t begin = end > static_cast<size_t>(h) ? end - static_cast<size_t>(h) : 0;
    int y = kBodyTop;
    for (size_t i = begin; i < end; ++i, ++y) {
        const LogLine& l = lines[i];
        const std::time_t t = std::chrono::system_clock::to_time_t(l.time);
        std::tm tm{};
        localtime_r(&t, &tm);
        char stamp[16];
        std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
        const attr_t a = l.level >= LogLevel::error     ? s.styles().deny
                         : l.level == LogLevel::warning ? s.styles().warn
                         : l.level == LogLevel::debug   ? s.styles().dim
                                                        : s.styles().normal;
        s.put(y, 0, stamp, 8, s.styles().dim);
        s.put(y, 9, std::string(log_level_name(l.level)), 7, a);
        s.put(y, 17, s.safe(l.text), s.cols() - 17, a);
    }
}

const std::vector<std::pair<std::string_view, std::string_view>>& help_lines() {
    static const std::vector<std::pair<std::string_view, std::string_view>> lines = {
        {"", "Views"},
        {"1  F2", "Connections: every decision, newest first"},
        {"2  F3", "Rules: in evaluation order, with hits"},
        {"3  F4", "Stats: top hosts, processes, ports and users"},
        {"4  F5", "Sockets: processes with sockets; Enter: one's sockets, live"},
        {"5  F6", "Log: messages of the firewall (Up: older)"},
        {"?  F1", "this help (Up/Down scroll)"},
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
        {"", "Rules"},
        {"Space", "enable or disable the selected rule"},
        {"e  Enter", "change its action and duration"},
        {"x  Del", "delete it (asks first)"},
        {"s", "sort by name (evaluation order) or by hits"},
        {"", "Sockets: processes"},
        {"s  F6", "next sort column (sockets, pid, user, name, counts, traffic)"},
        {"", "(Sent/Recv: TCP bytes of the sockets open now, from tcp_info)"},
        {"S", "reverse the order"},
        {"/", "filter: pid, user, name, executable"},
        {"Enter", "open the process: its sockets, refreshed live (1 s)"},
        {"", "Sockets: one process"},
        {"f", "all fds, not only sockets (1 -> /dev/pts/0)"},
        {"K", "close the selected TCP/UDP socket (SOCK_DESTROY; asks first)"},
        {"a  d", "allow / deny rule for this executable (tsnitch run; asks first)"},
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

void draw_help(Screen& s, UiState& st) {
    const auto& lines = st.options.monitor ? monitor_help_lines() : help_lines();
    const int h = s.rows() - 1 - kBodyTop;
    st.help_top =
        std::min(st.help_top,
                 lines.size() > static_cast<size_t>(h) ? lines.size() - static_cast<size_t>(h) : 0);
    int y = kBodyTop;
    for (size_t i = st.help_top; i < lines.size() && y < s.rows() - 1; ++i, ++y) {
        const auto& [k, text] = lines[i];
        if (k.empty() && text.front() != '(') {
            s.put(y, 1, text, s.cols() - 1, s.styles().title | A_UNDERLINE);
            continue;
        }
        s.put(y, 2, k, 18, s.styles().key);
        s.put(y, 21, text, s.cols() - 21, k.empty() ? s.styles().dim : s.styles().normal);
    }
}

void draw_dialog(Screen& s, std::string_view title, const std::vector<std::string>& body) {
    int w = display_width(title) + 6;
    for (const auto& l : body)
        w = std::max(w, display_width(l) + 4);
    w = std::min(w, s.cols());
    const int h = std::min(static_cast<int>(body.size()) + 2, s.rows());
    const int y = std::max(0, (s.rows() - h) / 2);
    const int x = std::max(0, (s.cols() - w) / 2);
    s.box(y, x, h, w, s.styles().warn, title);
    for (size_t i = 0; i < body.size() && static_cast<int>(i) + 1 < h - 1; ++i) {
        s.put(y + 1 + static_cast<int>(i), x + 2, body[i], w - 4, s.styles().normal);
    }
}

void draw_edit(Screen& s, const RuleEdit& e) {
    const auto& durations = standard_durations();
    const std::string l = std::string(s.glyphs().left) + " ";
    const std::string r = " " + std::string(s.glyphs().right);
    const std::string mark = s.utf8() ? "▸" : ">";
    std::vector<std::string> body = {
        s.safe(e.name),
        "",
        (e.field == 0 ? mark : " ") + " Action    " + l + std::string(action_name(e.action)) + r,
        (e.field == 1 ? mark : " ") + " Duration  " + l + durations[e.duration].to_string() + r,
        "",
        "Tab field  Left/Right change  Enter save  Esc cancel",
    };
    draw_dialog(s, "Change rule", body);
}

}  // namespace

int list_rows(const Screen& s) {
    // Minus the header row, the detail line and the bottom line.
    return std::max(1, s.rows() - kBodyTop - 3);
}

void draw_ui(Screen& s, UiState& st, Clock::time_point now) {
    s.begin_frame();
    draw_status(s, st);
    draw_tabs(s, st);
    switch (st.view) {
        case View::connections:
            draw_connections(s, st);
            break;
        case View::rules:
            draw_rules(s, st);
            break;
        case View::stats:
            draw_stats(s, st);
            break;
        case View::sockets:
            draw_sockets_tab(s, st, kBodyTop, list_rows(s));
            break;
        case View::log:
            draw_log(s, st);
            break;
        case View::help:
            draw_help(s, st);
            break;
    }
    draw_bottom(s, st, now);
    if (st.edit) draw_edit(s, *st.edit);
    if (st.confirm_delete) {
        draw_dialog(s, "Delete rule",
                    {"Delete the rule " + s.safe(*st.confirm_delete) + "?", "",
                     "y delete   any other key: keep"});
    }
    if (st.confirm_kill) {
        draw_dialog(s, "Close socket",
                    {"Close this socket (SOCK_DESTROY)?", s.safe(st.confirm_kill->line), "",
                     "y close   any other key: keep"});
    }
    if (st.confirm_rule) {
        const Rule& r = st.confirm_rule->rule;
        draw_dialog(s, std::string(action_name(r.action)) + " rule",
                    {"Add rule " + s.safe(r.name) + ":",
                     std::string(action_name(r.action)) + " " + s.safe(describe_operator(r.op)) +
                         ", " + r.duration.to_string(),
                     "", "y add   any other key: cancel"});
    }
    if (st.form) {
        draw_prompt(s, *st.form, st.pending.empty() ? 0 : st.pending.size() - 1, now);
    }
    if (st.confirm_quit) {
        draw_dialog(s, "Quit tsnitch?",
                    {"Quitting removes the firewall rules:", "connections are no longer checked.",
                     "", "y quit   any other key: stay"});
    }
    s.end_frame();
}

}  // namespace tsnitch::tui
