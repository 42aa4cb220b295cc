#include "tui/rules_panel.h"

#include <algorithm>

#include "tui/dialogs.h"
#include "tui/keys.h"
#include "tui/safe_text.h"

namespace tsnitch::tui {

namespace {

std::string duration_text(const RuleDuration& d) {
    return d.kind == RuleDuration::Kind::until_restart ? "restart" : d.to_string();
}

}  // namespace

std::vector<RuleSummary> RulesPanel::rows(const UiModel& m) const {
    return order_ == RuleOrder::name ? m.rules : sorted_rules(m.rules, order_);
}

Outcome RulesPanel::handle_key(int k, KeyContext& ctx) {
    if (k == 's') {
        order_ = order_ == RuleOrder::name ? RuleOrder::hits : RuleOrder::name;
        return Outcome::handled;
    }
    if (cursor_.handle_key(k, ctx.page)) return Outcome::handled;
    const auto rules = rows(ctx.model);
    if (rules.empty()) return Outcome::ignored;
    cursor_.selected = std::min(cursor_.selected, rules.size() - 1);
    const RuleSummary& r = rules[cursor_.selected];
    switch (k) {
        case ' ':
            ctx.host.send(EnableRule{r.name, !r.enabled},
                          (r.enabled ? "disabling " : "enabling ") + r.name);
            return Outcome::handled;
        case 'x':
        case key::del:
            ctx.host.open(std::make_unique<DeleteConfirm>(r.name));
            return Outcome::handled;
        case 'e':
        case key::enter:
            ctx.host.open(std::make_unique<RuleEditDialog>(r));
            return Outcome::handled;
        default:
            return Outcome::ignored;
    }
}

std::vector<Hint> RulesPanel::hints() const {
    return {{"Space", "on/off"}, {"e", "edit"}, {"x", "delete"}, {"s", "sort"}};
}

void RulesPanel::draw(Screen& s, const UiModel& m, Clock::time_point) {
    const auto rules = rows(m);
    const int w = s.cols();
    int y = kBodyTop;
    const int on_w = 3, action_w = 6, dur_w = 8, hits_w = 6;
    const int rest = std::max(0, w - on_w - action_w - dur_w - hits_w - 5);
    // Name and operator share the rest by what the rules on screen need: those of the rows
    // shown, so the cursor is clamped first.
    const int visible = list_rows(s);
    if (!rules.empty()) cursor_.clamp(rules.size(), visible);
    std::vector<int> wants = {5, 8};  // the titles
    for (size_t i = cursor_.top; i < rules.size() && i < cursor_.top + visible; ++i) {
        wants[0] = std::max(wants[0], display_width(s.safe(rules[i].name)));
        wants[1] = std::max(wants[1], display_width(s.safe(rules[i].summary)));
    }
    const auto fit = fit_columns(wants, {10, 10}, std::max(0, rest - 1));
    const int name_w = fit[0], op_w = fit[1];
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
    const bool by_hits = order_ == RuleOrder::hits;
    const std::string down = s.utf8() ? "\xe2\x86\x93" : "v";  // the column sorted on
    columns(y, "On", "Action", "Duration", by_hits ? "Hits" + down : "Hits",
            by_hits ? "Name" : "Name" + down, "Operator", s.styles().header, s.styles().header);
    ++y;
    if (rules.empty()) {
        draw_centered(s, y + 1, "No rules yet: answers to prompts create them.", s.styles().dim);
        return;
    }
    for (size_t i = cursor_.top; i < rules.size() && y < kBodyTop + 1 + visible; ++i, ++y) {
        const RuleSummary& r = rules[i];
        const bool sel = i == cursor_.selected;
        const attr_t base =
            sel ? s.styles().selected : (r.enabled ? s.styles().normal : s.styles().dim);
        if (sel) s.fill(y, 0, w, base);
        columns(y, r.enabled ? "on" : "off", std::string(action_name(r.action)),
                duration_text(r.duration), std::to_string(r.hits), s.safe(r.name),
                s.safe(r.summary), base, sel ? base : action_style(s.styles(), r.action));
    }
    const RuleSummary& r = rules[cursor_.selected];
    draw_detail(s, s.safe(r.name) + ": " + s.safe(r.summary));
}

}  // namespace tsnitch::tui
