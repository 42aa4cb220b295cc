#include "tui/connections_panel.h"

#include <algorithm>

#include "tui/dialogs.h"
#include "tui/keys.h"
#include "tui/safe_text.h"

namespace tsnitch::tui {

namespace {

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

}  // namespace

void ConnectionsPanel::events_arriving(const std::vector<DecisionEvent>& events) {
    if (cursor_.selected == 0) return;
    size_t added = 0;
    for (const auto& e : events)
        added += event_matches(e, filter_.text()) ? 1 : 0;
    cursor_.selected += added;
    cursor_.top += added;
}

Outcome ConnectionsPanel::handle_key(int k, KeyContext& ctx) {
    if (filter_.handle_key(k, cursor_)) return Outcome::handled;
    switch (k) {
        case 'a':
        case 'd': {
            const auto rows = ctx.model.log.filtered(filter_.text());
            if (rows.empty()) return Outcome::handled;
            const DecisionEvent& e = *rows[std::min(cursor_.selected, rows.size() - 1)];
            ctx.host.open(std::make_unique<RuleFormDialog>(
                PromptForm::for_new_rule(e.connection, k == 'a' ? Action::allow : Action::deny)));
            return Outcome::handled;
        }
        default:
            return cursor_.handle_key(k, ctx.page) ? Outcome::handled : Outcome::ignored;
    }
}

std::vector<Hint> ConnectionsPanel::hints() const {
    return {{"/", "filter"}, {"\xe2\x86\x91\xe2\x86\x93", "scroll"}, {"a/d", "rule"}};
}

bool ConnectionsPanel::draw_bottom_line(Screen& s) const {
    return filter_.draw(s);
}

void ConnectionsPanel::draw(Screen& s, const UiModel& m, Clock::time_point) {
    const std::string& filter = filter_.text();
    const int w = s.cols();
    const auto rows = m.log.filtered(filter);
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
    const int visible = list_rows(s);
    if (!rows.empty()) cursor_.clamp(rows.size(), visible);
    // Process, destination and rule share the rest by what the rows on screen need.
    std::vector<int> wants = {7, 11, 4};  // the titles
    for (size_t i = cursor_.top; i < rows.size() && i < cursor_.top + visible; ++i) {
        wants[0] = std::max(wants[0], display_width(s.safe(event_process(*rows[i]))));
        wants[1] = std::max(wants[1], display_width(s.safe(event_destination(*rows[i]))));
        wants[2] = std::max(wants[2], display_width(s.safe(event_rule(*rows[i]))));
    }
    const auto fit = fit_columns(wants, {8, 10, 4}, rest);
    const int proc_w = fit[0], dest_w = fit[1], rule_w = fit[2];
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
    if (!filter.empty()) {
        // Over the Rule column only, after its title: the other titles stay readable.
        const std::string f = " filter \"" + s.safe(filter) + "\": " + std::to_string(rows.size()) +
                              " of " + std::to_string(m.log.size()) + " ";
        const int fw = std::min(display_width(f), std::max(0, rule_w - 5));
        s.put(y, w - fw, f, fw, s.styles().header | A_BOLD);
    }
    ++y;
    if (rows.empty()) {
        draw_centered(s, y + 1,
                      filter.empty() ? "No connections yet: decisions appear here as they are "
                                       "made."
                                     : "Nothing matches the filter.",
                      s.styles().dim);
        return;
    }
    for (size_t i = cursor_.top; i < rows.size() && y < kBodyTop + 1 + visible; ++i, ++y) {
        const DecisionEvent& e = *rows[i];
        const bool sel = i == cursor_.selected;
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
    draw_detail(s, event_detail(s, *rows[cursor_.selected]));
}

}  // namespace tsnitch::tui
