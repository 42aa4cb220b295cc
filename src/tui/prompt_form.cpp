#include "tui/prompt_form.h"

#include <algorithm>

#include "tui/keys.h"

namespace tsnitch::tui {

namespace {

using namespace std::chrono_literals;

RuleDuration timed(std::chrono::seconds s) {
    return RuleDuration{RuleDuration::Kind::timed, s};
}

size_t wrap(size_t i, int step, size_t n) {
    if (n == 0) return 0;
    const auto m = static_cast<long>(n);
    return static_cast<size_t>(((static_cast<long>(i) + step) % m + m) % m);
}

}  // namespace

const std::vector<RuleDuration>& standard_durations() {
    static const std::vector<RuleDuration> d = {
        RuleDuration{},
        timed(30s),
        timed(5min),
        timed(15min),
        timed(30min),
        timed(1h),
        timed(12h),
        timed(24h),
        RuleDuration{RuleDuration::Kind::until_restart, {}},
        RuleDuration{RuleDuration::Kind::always, {}},
    };
    return d;
}

const std::vector<RuleDuration>& rule_durations() {
    static const std::vector<RuleDuration> d(standard_durations().begin() + 1,
                                             standard_durations().end());
    return d;
}

std::string scope_text(const Connection& c, const Scope& s) {
    if (s.kind == ScopeKind::domain) return scope_label(s);  // "*.example.com" says it all
    return scope_label(s) + ": " + scope_value(c, s);
}

PromptForm PromptForm::for_new_rule(const Connection& c, Action action) {
    PendingPrompt p;
    p.connection = c;
    p.default_action = action;
    const RuleDuration always{RuleDuration::Kind::always, {}};
    PromptForm f(p, always, std::chrono::milliseconds(0), Clock::time_point{});
    f.new_rule_ = true;
    f.durations_ = rule_durations();
    f.default_duration_ = f.duration_ = f.durations_.size() - 1;
    if (c.dst.is_unspecified()) {
        std::erase_if(f.scopes_, [](const Scope& s) {
            return s.kind != ScopeKind::executable && s.kind != ScopeKind::command_line &&
                   s.kind != ScopeKind::user;
        });
    }
    return f;
}

PromptForm::PromptForm(const PendingPrompt& prompt, RuleDuration default_duration,
                       std::chrono::milliseconds key_delay, Clock::time_point shown)
    : prompt_(prompt),
      durations_(standard_durations()),
      scopes_(scopes_for(prompt.connection)),
      accept_from_(shown + key_delay),
      action_(prompt.default_action) {
    // A configured duration that is not in the standard list (say 2h) is offered too.
    auto it = std::find(durations_.begin(), durations_.end(), default_duration);
    if (it == durations_.end()) {
        it = durations_.insert(durations_.end() - 2, default_duration);
    }
    default_duration_ = static_cast<size_t>(it - durations_.begin());
    duration_ = default_duration_;
}

Answer PromptForm::make_answer(Action a, size_t duration, size_t scope) const {
    Answer ans;
    ans.action = a;
    ans.duration = durations_[duration];
    if (ans.duration.kind != RuleDuration::Kind::once && scope < scopes_.size()) {
        ans.rule = build_rule(prompt_.connection, scopes_[scope], a, ans.duration);
    } else {
        ans.duration = RuleDuration{};
    }
    return ans;
}

Answer PromptForm::default_answer() const {
    return make_answer(prompt_.default_action, default_duration_, 0);
}

Answer PromptForm::answer_with(Action action) const {
    return make_answer(action, duration_, scope_);
}

void PromptForm::move(int step) {
    switch (focus_) {
        case Field::action: {
            static constexpr Action order[] = {Action::allow, Action::deny, Action::reject};
            const size_t i = static_cast<size_t>(
                std::find(std::begin(order), std::end(order), action_) - std::begin(order));
            action_ = order[wrap(i, step, 3)];
            break;
        }
        case Field::duration:
            duration_ = wrap(duration_, step, durations_.size());
            break;
        case Field::scope:
            scope_ = wrap(scope_, step, scopes_.size());
            break;
    }
}

std::optional<Answer> PromptForm::handle_key(int k, Clock::time_point now) {
    if (ignoring_keys(now)) return std::nullopt;
    switch (k) {
        case 'a':
        case 'A':
            return answer_with(Action::allow);
        case 'd':
        case 'D':
            return answer_with(Action::deny);
        case 'r':
        case 'R':
            return answer_with(Action::reject);
        case key::enter:
        case '\r':
            return answer_with(action_);
        case key::escape:
            return default_answer();
        case key::tab:
        case key::down:
        case 'j':
            focus_ = focus_ == Field::action     ? Field::duration
                     : focus_ == Field::duration ? Field::scope
                                                 : Field::action;
            break;
        case key::backtab:
        case key::up:
        case 'k':
            focus_ = focus_ == Field::action     ? Field::scope
                     : focus_ == Field::duration ? Field::action
                                                 : Field::duration;
            break;
        case key::left:
        case 'h':
            move(-1);
            break;
        case key::right:
        case 'l':
        case ' ':
            move(+1);
            break;
        default:
            break;
    }
    return std::nullopt;
}

}  // namespace tsnitch::tui
