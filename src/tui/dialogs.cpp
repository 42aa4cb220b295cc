#include "tui/dialogs.h"

#include <algorithm>

#include "tui/keys.h"
#include "tui/prompt_view.h"

namespace tsnitch::tui {

namespace {

bool yes(int k) {
    return k == 'y' || k == 'Y';
}

}  // namespace

Outcome QuitConfirm::handle_key(int k, KeyContext& ctx) {
    if (yes(k)) ctx.host.quit();
    return Outcome::close;
}

void QuitConfirm::draw(Screen& s, const UiModel&, Clock::time_point) {
    if (attached_) {
        draw_dialog(s, "Detach from the daemon?",
                    {"The daemon keeps running and keeps its firewall;",
                     "its prompts wait for another front end, then PromptTimeout.", "",
                     "y detach   any other key: stay"});
    } else {
        draw_dialog(s, "Quit tsnitch?",
                    {"Quitting removes the firewall rules:", "connections are no longer checked.",
                     "", "y quit   any other key: stay"});
    }
}

Outcome KillConfirm::handle_key(int k, KeyContext& ctx) {
    if (yes(k)) ctx.host.send(CloseSocket{socket_}, "closing the socket");
    return Outcome::close;
}

void KillConfirm::draw(Screen& s, const UiModel&, Clock::time_point) {
    draw_dialog(
        s, "Close socket",
        {"Close this socket (SOCK_DESTROY)?", s.safe(line_), "", "y close   any other key: keep"});
}

Outcome DeleteConfirm::handle_key(int k, KeyContext& ctx) {
    if (yes(k)) ctx.host.send(DeleteRule{name_}, "deleting " + name_);
    return Outcome::close;
}

void DeleteConfirm::draw(Screen& s, const UiModel&, Clock::time_point) {
    draw_dialog(s, "Delete rule",
                {"Delete the rule " + s.safe(name_) + "?", "", "y delete   any other key: keep"});
}

RuleEditDialog::RuleEditDialog(const RuleSummary& r)
    : name_(r.name), was_(r.action), action_(r.action) {
    const auto& d = rule_durations();
    const auto it = std::find(d.begin(), d.end(), r.duration);
    duration_ = it == d.end() ? d.size() - 1 : static_cast<size_t>(it - d.begin());
}

Outcome RuleEditDialog::handle_key(int k, KeyContext& ctx) {
    const size_t nd = rule_durations().size();
    switch (k) {
        case key::escape:
            return Outcome::close;
        case key::enter:
            ctx.host.send(ChangeRule{name_, action_, rule_durations()[duration_]},
                          "changing rule " + name_);
            return Outcome::close;
        case key::tab:
        case key::backtab:
        case key::up:
        case key::down:
            field_ = 1 - field_;
            return Outcome::handled;
        case key::left:
        case key::right: {
            const int step = k == key::left ? -1 : 1;
            if (field_ == 0) {
                action_ = static_cast<Action>((static_cast<int>(action_) + step + 3) % 3);
            } else {
                duration_ = (duration_ + (step > 0 ? 1 : nd - 1)) % nd;
            }
            return Outcome::handled;
        }
        default:
            return Outcome::handled;
    }
}

void RuleEditDialog::draw(Screen& s, const UiModel&, Clock::time_point) {
    const auto& durations = rule_durations();
    const std::string l = std::string(s.glyphs().left) + " ";
    const std::string r = " " + std::string(s.glyphs().right);
    const std::string mark = s.utf8() ? "▸" : ">";
    std::vector<std::string> body = {
        s.safe(name_),
        "",
        (field_ == 0 ? mark : " ") + " Action    " + l + std::string(action_name(action_)) + r,
        (field_ == 1 ? mark : " ") + " Duration  " + l + durations[duration_].to_string() + r,
        "",
        "Tab field  Left/Right change  Enter save  Esc cancel",
    };
    // The rule keeps its file and name: say so when the name now tells the old action.
    const std::string said = std::string(action_name(was_)) + "-";
    if (action_ != was_ && name_.starts_with(said)) {
        body.insert(body.begin() + 5, "The name stays \"" + s.safe(name_.substr(0, said.size())) +
                                          "...\": it no longer tells the action.");
    }
    draw_dialog(s, "Change rule", body);
}

Outcome RuleFormDialog::handle_key(int k, KeyContext& ctx) {
    if (k == key::escape) return Outcome::close;
    if (k == key::ctrl_c || k == key::f(10)) {
        ctx.host.ask_quit();
        return Outcome::handled;
    }
    const auto answer = form_.handle_key(k, ctx.now);
    if (!answer) return Outcome::handled;
    if (!answer->rule) {
        ctx.host.say("no rule: this process offers nothing to match on");
        return Outcome::close;
    }
    const std::string name = answer->rule->name;
    ctx.host.send(AddRule{*answer->rule}, "adding rule " + name, "added rule " + name);
    return Outcome::close;
}

void RuleFormDialog::draw(Screen& s, const UiModel&, Clock::time_point now) {
    draw_prompt(s, form_, 0, now);
}

Outcome PromptPanel::handle_key(int k, KeyContext& ctx) {
    // Quitting stays possible while a prompt is open (q only after the key delay, like the
    // prompt's own keys).
    if (k == key::ctrl_c || k == key::f(10) || (k == 'q' && !form_.ignoring_keys(ctx.now))) {
        ctx.host.ask_quit();
        return Outcome::handled;
    }
    // The view behind the prompt can still be switched: these keys mean nothing to it.
    if ((k >= '1' && k <= '5') || (k >= key::f(2) && k <= key::f(6))) return Outcome::ignored;
    const auto answer = form_.handle_key(k, ctx.now);
    if (!answer) return Outcome::handled;
    ctx.host.answer_prompt(form_.prompt_id(), *answer);
    return Outcome::close;
}

void PromptPanel::draw(Screen& s, const UiModel& m, Clock::time_point now) {
    draw_prompt(s, form_, m.pending.empty() ? 0 : m.pending.size() - 1, now);
}

}  // namespace tsnitch::tui
