#include "tui/prompt_view.h"

#include <algorithm>
#include <functional>
#include <vector>

#include "tui/safe_text.h"

namespace tsnitch::tui {

namespace {

using Clock = std::chrono::steady_clock;

// One line of the prompt; lower priority numbers are kept first when rows are short.
struct Line {
    int priority;
    std::function<void(int y, int x, int w)> draw;
};

constexpr int kLabelWidth = 10;  // " Duration " ; below kLabelMinWidth only the focus mark is left
constexpr int kLabelMinWidth = 36;

struct KeyHint {
    std::string_view key;
    std::string_view text;
};

void draw_keys(Screen& s, int y, int x, int w, const std::vector<KeyHint>& hints, bool dim) {
    // Drop hints from the end until the rest fits.
    size_t n = hints.size();
    auto width_of = [&](size_t count) {
        int total = 0;
        for (size_t i = 0; i < count; ++i) {
            total += display_width(hints[i].key) + 1 + display_width(hints[i].text) + 2;
        }
        return total - 2;
    };
    while (n > 1 && width_of(n) > w)
        --n;
    const attr_t kattr = dim ? s.styles().dim : s.styles().key;
    const attr_t tattr = dim ? s.styles().dim : s.styles().normal;
    int col = x;
    for (size_t i = 0; i < n; ++i) {
        col += s.put(y, col, hints[i].key, x + w - col, kattr);
        col += s.put(y, col, " " + std::string(hints[i].text), x + w - col, tattr);
        if (i + 1 < n) col += s.put(y, col, "  ", x + w - col, tattr);
    }
}

void draw_label(Screen& s, int y, int x, int lw, std::string_view label, bool focused) {
    const std::string_view mark = focused ? (s.utf8() ? "▸" : ">") : " ";
    s.put(y, x, mark, 1, s.styles().key);
    s.put(y, x + 1, label, lw - 2, focused ? s.styles().selected : s.styles().title);
}

// A line of the prompt: the label in the left column, the (safe) text after it; `cut_left`
// keeps the end of a path that is too long. The line keeps its own copies of the texts.
Line field_line(Screen& s, int priority, int lw, std::string label, std::string text,
                bool cut_left = false) {
    return {priority, [&s, lw, label = std::move(label), text = std::move(text), cut_left](
                          int y, int x, int w) {
                if (!label.empty()) s.put(y, x + 1, label, lw - 2, s.styles().title);
                s.put(y, x + lw, cut_left ? truncate_left(text, w - lw, s.glyphs().ellipsis) : text,
                      w - lw, s.styles().normal);
            }};
}

// "curl  pid 4321  user alice (1000)".
std::string process_text(const Screen& s, const std::string& safe_name, const ProcessInfo* proc,
                         const Connection& c) {
    std::string text = safe_name;
    if (proc) {
        text += "  pid " + std::to_string(proc->pid);
        text += proc->user.empty()
                    ? "  uid " + std::to_string(proc->uid)
                    : "  user " + s.safe(proc->user) + " (" + std::to_string(proc->uid) + ")";
    } else if (c.uid) {
        text += "  uid " + std::to_string(*c.uid);
    }
    return text;
}

// Path, command line (up to three lines), working directory and parents: the lower priorities,
// kept while there is room.
void add_process_lines(std::vector<Line>& lines, Screen& s, int lw, int inner_w,
                       const ProcessInfo& proc) {
    if (!proc.path.empty()) lines.push_back(field_line(s, 2, lw, "Path", s.safe(proc.path), true));
    if (!proc.args.empty()) {
        std::string cmd;
        for (const auto& a : proc.args)
            cmd += (cmd.empty() ? "" : " ") + a;
        const auto wrapped = wrap_to_width(s.safe(cmd), inner_w - lw, 3, s.glyphs().ellipsis);
        for (size_t i = 0; i < wrapped.size(); ++i)
            lines.push_back(field_line(s, i == 0 ? 2 : 5, lw, i == 0 ? "Command" : "", wrapped[i]));
    }
    if (!proc.cwd.empty()) lines.push_back(field_line(s, 3, lw, "Cwd", s.safe(proc.cwd), true));
    if (!proc.parents.empty())
        lines.push_back(field_line(s, 3, lw, "Parents", s.safe(parent_chain(proc))));
}

// "example.com  93.184.216.34  port 443  tcp".
std::string destination_text(const Screen& s, const Connection& c) {
    // A listening socket (a rule made from the Sockets view) has no peer.
    if (c.dst.is_unspecified()) return "no peer (listening or unconnected)";
    std::string text;
    if (c.dst_host && !c.dst_host->empty()) text = s.safe(*c.dst_host) + "  ";
    text += c.dst.to_string();
    if (protocol_has_ports(c.protocol)) text += "  port " + std::to_string(c.dst_port);
    return text + "  " + std::string(protocol_name(c.protocol));
}

std::string source_text(const Connection& c) {
    std::string text = c.src.to_string();
    if (protocol_has_ports(c.protocol)) text += "  port " + std::to_string(c.src_port);
    return text;
}

// "ebpf   +2 joined this prompt".
std::string found_by_text(const PendingPrompt& p) {
    std::string text(method_name(p.method));
    if (p.method == Method::none) text = "no process found";
    if (p.joined > 0) text += "   +" + std::to_string(p.joined) + " joined this prompt";
    return text;
}

// All choices in a row with the chosen one in brackets when they fit, else "◀ chosen ▶ i/n".
void draw_chooser(Screen& s, int y, int x, int w, const std::vector<std::string>& items,
                  size_t chosen, bool focused, const std::vector<attr_t>& attrs = {},
                  bool one_at_a_time = false) {
    int total = 0;
    for (const auto& it : items)
        total += display_width(it) + 3;
    const attr_t sel = focused ? s.styles().selected : s.styles().title;
    if (total <= w && !one_at_a_time) {
        int col = x;
        for (size_t i = 0; i < items.size(); ++i) {
            const attr_t a = i < attrs.size() ? attrs[i] : s.styles().normal;
            if (i == chosen) {
                col += s.put(y, col, "[" + items[i] + "]", x + w - col, sel | a);
            } else {
                col += s.put(y, col, " " + items[i] + " ", x + w - col, a);
            }
            col += s.put(y, col, " ", x + w - col, s.styles().normal);
        }
        return;
    }
    const std::string count = " " + std::to_string(chosen + 1) + "/" + std::to_string(items.size());
    const int cw = display_width(count);
    int col = x;
    col += s.put(y, col, std::string(s.glyphs().left) + " ", w, s.styles().key);
    const int room = std::max(0, x + w - col - cw - 2);
    col += s.put(y, col, items[chosen], room, sel);
    col += s.put(y, col, " " + std::string(s.glyphs().right), x + w - col, s.styles().key);
    s.put(y, col, count, x + w - col, s.styles().dim);
}

// The lines the person answers with: action, duration, scope, and the keys.
void add_choice_lines(std::vector<Line>& lines, Screen& s, const PromptForm& form,
                      const Connection& c, int lw, bool ignoring) {
    lines.push_back({6, [](int, int, int) {}});
    lines.push_back({1, [&s, &form, lw](int y, int x, int w) {
                         draw_label(s, y, x, lw, "Action",
                                    form.focus() == PromptForm::Field::action);
                         const Action order[] = {Action::allow, Action::deny, Action::reject};
                         size_t chosen = 0;
                         for (size_t i = 0; i < 3; ++i) {
                             if (order[i] == form.action()) chosen = i;
                         }
                         draw_chooser(s, y, x + lw, w - lw, {"allow", "deny", "reject"}, chosen,
                                      form.focus() == PromptForm::Field::action,
                                      {action_style(s.styles(), Action::allow),
                                       action_style(s.styles(), Action::deny),
                                       action_style(s.styles(), Action::reject)});
                     }});
    lines.push_back(
        {1, [&s, &form, lw](int y, int x, int w) {
             draw_label(s, y, x, lw, "Duration", form.focus() == PromptForm::Field::duration);
             std::vector<std::string> items;
             for (const auto& d : form.durations()) {
                 items.push_back(d.kind == RuleDuration::Kind::until_restart ? "restart"
                                                                             : d.to_string());
             }
             draw_chooser(s, y, x + lw, w - lw, items, form.duration_index(),
                          form.focus() == PromptForm::Field::duration);
         }});
    if (!form.scopes().empty()) {
        lines.push_back({1, [&s, &form, &c, lw](int y, int x, int w) {
                             draw_label(s, y, x, lw, "Scope",
                                        form.focus() == PromptForm::Field::scope);
                             std::vector<std::string> items;
                             for (const auto& sc : form.scopes())
                                 items.push_back(s.safe(scope_text(c, sc)));
                             // One scope at a time: the list is long and each has its value.
                             draw_chooser(s, y, x + lw, w - lw, items, form.scope_index(),
                                          form.focus() == PromptForm::Field::scope, {}, true);
                         }});
    }
    lines.push_back({6, [](int, int, int) {}});
    lines.push_back({0, [&s, &form, ignoring](int y, int x, int w) {
                         draw_keys(s, y, x + 1, w - 1,
                                   {{"a", "allow"},
                                    {"d", "deny"},
                                    {"r", "reject"},
                                    {"Enter", "confirm"},
                                    {"Esc", form.new_rule() ? "cancel" : "default"},
                                    {"Tab", "field"},
                                    {s.utf8() ? "←→" : "<>", "change"}},
                                   ignoring);
                     }});
}

// Keeps the lines of the highest priority that fit (in their order) and draws them, in a box
// `box_w` wide centred below the status line when `boxed`, else over the whole screen.
void draw_lines(Screen& s, const std::vector<Line>& lines, int box_w, bool boxed,
                const std::string& title, const std::string& countdown,
                const std::string& waiting) {
    const int rows = s.rows();
    const int cols = s.cols();
    const int inner_h = boxed ? rows - 2 : rows;
    std::vector<int> order(lines.size());
    for (size_t i = 0; i < lines.size(); ++i)
        order[i] = static_cast<int>(i);
    std::stable_sort(order.begin(), order.end(),
                     [&](int a, int b) { return lines[a].priority < lines[b].priority; });
    std::vector<bool> keep(lines.size(), false);
    for (int i = 0; i < std::min<int>(inner_h, static_cast<int>(order.size())); ++i) {
        keep[static_cast<size_t>(order[static_cast<size_t>(i)])] = true;
    }
    const int shown = static_cast<int>(std::count(keep.begin(), keep.end(), true));
    const int box_h = boxed ? shown + 2 : shown;
    int top = std::max(0, (rows - box_h) / 2);
    if (rows - box_h >= 4) top = std::max(top, 2);  // keep the status line visible
    const int left = (cols - box_w) / 2;
    int y = top;
    int x = left;
    int w = box_w;
    if (boxed) {
        s.box(top, left, box_h, box_w, s.styles().border | A_BOLD, title, countdown, waiting);
        y = top + 1;
        x = left + 1;
        w = box_w - 2;
    } else {
        for (int r = 0; r < rows; ++r)
            s.fill(r, 0, cols, s.styles().normal);
    }
    for (size_t i = 0; i < lines.size(); ++i) {
        if (!keep[i]) continue;
        lines[i].draw(y++, x, w);
    }
}

}  // namespace

std::string countdown_text(const PendingPrompt& p, Clock::time_point now, std::string_view arrow) {
    if (!p.deadline) return {};
    const auto left = std::chrono::ceil<std::chrono::seconds>(*p.deadline - now).count();
    return std::to_string(std::max<long long>(left, 0)) + "s " + std::string(arrow) + " " +
           std::string(action_name(p.default_action));
}

std::string parent_chain(const ProcessInfo& p) {
    std::string out;
    for (const auto& parent : p.parents) {
        if (!out.empty()) out += " < ";
        out += parent.name + "(" + std::to_string(parent.pid) + ")";
    }
    return out;
}

void draw_prompt(Screen& s, const PromptForm& form, size_t more, Clock::time_point now) {
    const PendingPrompt& p = form.prompt();
    const Connection& c = p.connection;
    const ProcessInfo* proc = c.process ? &*c.process : nullptr;

    std::string name = proc ? proc->comm : "";
    if (name.empty() && proc) name = proc->path.substr(proc->path.rfind('/') + 1);
    if (name.empty()) name = "unknown process";
    const std::string safe_name = s.safe(name);

    // Geometry: a box as wide as useful, centred below the status line when it fits.
    const int box_w = std::min(s.cols(), 100);
    const bool boxed = s.rows() >= 6 && s.cols() >= 24;
    const int inner_w = boxed ? box_w - 2 : s.cols();
    const int lw = inner_w >= kLabelMinWidth ? kLabelWidth : 1;
    const std::string countdown = countdown_text(p, now, s.glyphs().arrow);
    const std::string waiting = more > 0 ? std::to_string(more) + " more waiting" : "";
    const std::string title =
        form.new_rule() ? "New rule for " + safe_name : safe_name + " wants to connect";

    std::vector<Line> lines;
    if (!boxed) {  // no box to carry them: title, countdown and queue on the first line
        std::string text = title;
        if (!countdown.empty()) text += "  " + countdown;
        if (!waiting.empty()) text += "  (" + waiting + ")";
        lines.push_back(
            {0, [&s, text](int y, int x, int w) { s.put(y, x, text, w, s.styles().title); }});
    }
    lines.push_back(field_line(s, 0, lw, "Process", process_text(s, safe_name, proc, c)));
    if (proc) add_process_lines(lines, s, lw, inner_w, *proc);
    lines.push_back(field_line(s, 0, lw, "To", destination_text(s, c)));
    lines.push_back(field_line(s, 3, lw, "From", source_text(c)));
    if (!form.new_rule()) lines.push_back(field_line(s, 3, lw, "Found by", found_by_text(p)));
    add_choice_lines(lines, s, form, c, lw, form.ignoring_keys(now));
    draw_lines(s, lines, box_w, boxed, title, countdown, waiting);
}

}  // namespace tsnitch::tui
