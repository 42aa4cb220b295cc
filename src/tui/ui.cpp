#include "tui/ui.h"

#include <algorithm>
#include <type_traits>

#include "tui/dialogs.h"
#include "tui/keys.h"
#include "tui/safe_text.h"
#include "tui/status_line.h"

namespace tsnitch::tui {

using namespace std::chrono_literals;

namespace {

// The daemon's rules as the Rules view lists them (by name; the view re-sorts when asked).
std::vector<RuleSummary> rule_list(const std::vector<RuleRecord>& records) {
    std::vector<RuleSummary> rules;
    for (const RuleRecord& r : records)
        rules.push_back(summary_of(r));
    return sorted_rules(std::move(rules));
}

// The tab line, in the order of the keys 1-5 (F2-F6); Help last.
struct Tab {
    View view;
    std::string_view text;
};
constexpr Tab kTabs[] = {
    {View::connections, "1 Connections"}, {View::rules, "2 Rules"}, {View::stats, "3 Stats"},
    {View::sockets, "4 Sockets"},         {View::log, "5 Log"},     {View::help, "? Help"}};

}  // namespace

Ui::Ui(DaemonLink& link, const TuiOptions& options)
    : link_(link), model_(options), help_(options.monitor) {
    // The monitor has no decisions, rules or log: it opens on the Sockets view.
    if (options.monitor) view_ = before_help_ = View::sockets;
}

Ui::~Ui() = default;

Panel& Ui::panel(View v) {
    switch (v) {
        case View::connections:
            return connections_;
        case View::rules:
            return rules_;
        case View::stats:
            return stats_;
        case View::sockets:
            return sockets_;
        case View::log:
            return log_;
        case View::help:
            return help_;
    }
    return connections_;
}

void Ui::send(Command body, std::string what, std::string on_success) {
    const uint64_t request = next_request_++;
    sent_[request] = Sent{std::move(what), std::move(on_success)};
    link_.send(DaemonCommand{request, std::move(body)});
}

void Ui::open(std::unique_ptr<Panel> dialog) {
    const int layer = dialog->layer();
    const auto at = std::find_if(dialogs_.begin(), dialogs_.end(),
                                 [&](const auto& d) { return d->layer() > layer; });
    dialogs_.insert(at, std::move(dialog));
}

void Ui::close(const Panel* dialog) {
    if (dialog == prompt_) prompt_ = nullptr;
    std::erase_if(dialogs_, [&](const auto& d) { return d.get() == dialog; });
}

void Ui::answer_prompt(uint64_t id, const Answer& a) {
    send(AnswerPrompt{id, a.action, a.duration, a.rule}, "answering the prompt", "");
    model_.answered.push_back(id);
    model_.pending = prompt_queue(std::move(model_.pending), model_.answered);
}

void Ui::ask_quit() {
    if (model_.options.monitor) {
        quit_ = true;  // no firewall to remove: nothing to confirm
        return;
    }
    open(std::make_unique<QuitConfirm>(model_.options.attached));
}

void Ui::say(std::string text) {
    message_ = std::move(text);
    message_until_ = Clock::now() + 5s;
}

void Ui::handle_key(int k, Clock::time_point now, size_t page) {
    KeyContext ctx{model_, *this, page, now};
    bool taken = false;
    for (size_t i = dialogs_.size(); i-- > 0 && !taken;) {
        // The dialog may open another one above it (the quit question): keep its address.
        Panel* d = dialogs_[i].get();
        const Outcome o = d->handle_key(k, ctx);
        if (o == Outcome::close) close(d);
        taken = o != Outcome::ignored;
    }
    if (!taken) handle_view_key(k, ctx);
    sync_prompt(now);
    update_socket_subscription();
}

bool Ui::available(View v) const {
    // The monitor has no decisions, rules or log: only its socket views and help.
    return !model_.options.monitor || v == View::sockets || v == View::help;
}

void Ui::handle_view_key(int k, KeyContext& ctx) {
    const Outcome o = panel(view_).handle_key(k, ctx);
    if (o == Outcome::close) view_ = before_help_;  // Help's Esc
    if (o != Outcome::ignored) return;
    // 1-5 and F2-F6 pick the tabs in their order.
    const int tab = k >= '1' && k <= '5'               ? k - '1'
                    : k >= key::f(2) && k <= key::f(6) ? k - key::f(2)
                                                       : -1;
    if (tab >= 0) {
        if (available(kTabs[tab].view)) view_ = kTabs[tab].view;
        return;
    }
    switch (k) {
        case '?':
        case 'h':
        case key::f(1):
            if (view_ != View::help) before_help_ = view_;
            view_ = View::help;
            return;
        case 'q':
        case key::f(10):
        case key::ctrl_c:
            ask_quit();
            return;
        default:
            return;
    }
}

void Ui::update_socket_subscription() {
    const bool want = view_ == View::sockets;
    const std::optional<int> focus = sockets_.focus_pid();
    const bool all_fds = sockets_.all_fds();
    if (want == sockets_on_ && (!want || (sockets_focus_ == focus && sockets_all_fds_ == all_fds)))
        return;
    sockets_on_ = want;
    sockets_focus_ = focus;
    sockets_all_fds_ = all_fds;
    SubscribeSockets s;
    s.on = want;
    s.interval = model_.options.socket_interval;
    s.focus_pid = focus;
    s.all_fds = all_fds;
    send(s, "the socket table", "");
}

void Ui::sync_prompt(Clock::time_point now) {
    if (model_.pending.empty()) {
        if (prompt_) close(prompt_);
        return;
    }
    const PendingPrompt& front = model_.pending.front();
    if (prompt_ && prompt_->form().prompt_id() == front.id) {
        prompt_->form().refresh(front);
        return;
    }
    if (prompt_) close(prompt_);
    auto p = std::make_unique<PromptPanel>(
        PromptForm(front, model_.options.default_duration, model_.options.prompt_key_delay, now));
    prompt_ = p.get();
    open(std::move(p));
}

void Ui::apply(std::vector<DaemonEvent> events, Clock::time_point now) {
    // Decisions come in floods: the log takes them in one go.
    std::vector<DecisionEvent> decisions;
    bool prompts = false;
    for (DaemonEvent& e : events) {
        if (auto* d = std::get_if<DecisionMade>(&e)) {
            decisions.push_back(std::move(d->event));
            continue;
        }
        if (!decisions.empty()) apply_decisions(std::move(decisions));
        decisions.clear();
        prompts = prompts || std::holds_alternative<Snapshot>(e) ||
                  std::holds_alternative<PromptOpened>(e) ||
                  std::holds_alternative<PromptClosed>(e) ||
                  std::holds_alternative<PromptJoined>(e);
        apply_event(e, now);
    }
    if (!decisions.empty()) apply_decisions(std::move(decisions));
    if (prompts) {
        model_.pending = prompt_queue(std::move(model_.pending), model_.answered);
        sync_prompt(now);
    }
}

void Ui::apply_decisions(std::vector<DecisionEvent> events) {
    // Hits are counted here as the daemon counts them, from the Snapshot's numbers on.
    for (const auto& e : events) {
        if (e.reason != Reason::rule || !e.rule) continue;
        for (RuleSummary& r : model_.rules)
            if (r.name == *e.rule) ++r.hits;
    }
    log_decisions(std::move(events));
}

void Ui::log_decisions(std::vector<DecisionEvent> events) {
    connections_.events_arriving(events);
    model_.log.add(std::move(events));
}

void Ui::add_log_line(const LogRecord& l) {
    model_.log_lines.push_back(line_of(l));
    if (model_.log_lines.size() > kMaxLogLines) model_.log_lines.pop_front();
}

void Ui::apply_snapshot(Snapshot& s, Clock::time_point now) {
    model_.status = s.status;
    model_.rules = rule_list(s.rules);
    model_.pending.clear();
    for (const PromptRecord& p : s.prompts)
        model_.pending.push_back(pending_of(p, now));
    // The Snapshot's rule hits count its recent decisions already.
    log_decisions(std::move(s.recent));
    for (const LogRecord& l : s.log)
        add_log_line(l);
    if (!s.review.empty()) {
        say(std::to_string(s.review.size()) +
            " decisions were made while nobody was attached: see the Connections view");
    }
    std::vector<DecisionEvent> review;
    for (ReviewRecord& r : s.review)
        review.push_back(std::move(r.event));
    log_decisions(std::move(review));
}

void Ui::apply_table(SocketTableUpdate& u) {
    model_.table_error = u.error;
    if (!u.table) return;
    if (!u.error.empty() && u.table->taken == std::chrono::system_clock::time_point{}) return;
    auto names =
        std::make_shared<std::vector<std::pair<IpAddress, std::string>>>(std::move(u.host_names));
    model_.host_names = [names](const IpAddress& a) -> std::optional<std::string> {
        for (const auto& [addr, name] : *names)
            if (addr == a) return name;
        return std::nullopt;
    };
    model_.rates.update(u.table->processes, u.table->taken);
    sockets_.table_arrived(*u.table);
    model_.table = std::move(u.table);
}

void Ui::apply_event(DaemonEvent& event, Clock::time_point now) {
    std::visit(
        [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, Snapshot>) {
                apply_snapshot(e, now);
            } else if constexpr (std::is_same_v<T, PromptOpened>) {
                model_.pending.push_back(pending_of(e.prompt, now));
            } else if constexpr (std::is_same_v<T, PromptJoined>) {
                for (PendingPrompt& p : model_.pending)
                    if (p.id == e.id) p.joined = e.joined;
            } else if constexpr (std::is_same_v<T, PromptClosed>) {
                std::erase_if(model_.pending, [&](const PendingPrompt& p) { return p.id == e.id; });
                std::erase(model_.answered, e.id);
            } else if constexpr (std::is_same_v<T, RulesChanged>) {
                model_.rules = rule_list(e.rules);
            } else if constexpr (std::is_same_v<T, StatusChanged>) {
                model_.status = e.status;
            } else if constexpr (std::is_same_v<T, LogAppended>) {
                // Warnings and errors also show in the bottom line for a moment, whatever the
                // view.
                if (e.line.level >= LogLevel::warning) say(e.line.text);
                add_log_line(e.line);
            } else if constexpr (std::is_same_v<T, SocketTableUpdate>) {
                apply_table(e);
            } else if constexpr (std::is_same_v<T, CommandResult>) {
                auto it = sent_.find(e.request);
                if (it == sent_.end()) return;
                if (!e.error.empty()) {
                    say(it->second.what + ": " + e.error);
                } else if (!it->second.on_success.empty()) {
                    say(it->second.on_success);
                }
                sent_.erase(it);
            } else if constexpr (std::is_same_v<T, Stopping>) {
                stop_reason_ = e.reason;
                quit_ = true;
            }
            // DecisionMade is batched by apply(); ReviewAdded/Removed, ProcessDetailsReply:
            // nothing to show yet.
        },
        event);
}

void Ui::draw_tabs(Screen& s) {
    int col = 0;
    for (const Tab& t : kTabs) {
        if (!available(t.view)) continue;
        const bool active = t.view == view_;
        const std::string text =
            active ? "[" + std::string(t.text) + "]" : " " + std::string(t.text) + " ";
        col +=
            s.put(1, col, text, s.cols() - col, active ? s.styles().selected : s.styles().normal);
        col += s.put(1, col, " ", s.cols() - col, s.styles().normal);
    }
    if (!model_.status.fallback_notice.empty()) {
        const std::string note = s.safe(model_.status.fallback_notice);
        const int room = s.cols() - col - 1;
        if (room > 8) {
            const int nw = std::min(display_width(note), room);
            s.put(1, s.cols() - nw, note, nw, s.styles().warn);
        }
    }
}

void Ui::draw_bottom(Screen& s, Clock::time_point now) {
    const int y = s.rows() - 1;
    const int w = s.cols();
    s.fill(y, 0, w, s.styles().normal);
    Panel& p = panel(view_);
    if (p.draw_bottom_line(s)) return;
    if (!message_.empty() && now < message_until_) {
        s.put(y, 0, s.safe(message_), w, s.styles().warn);
        return;
    }
    std::vector<Hint> hints = p.hints();
    if (!model_.options.monitor) hints.push_back({"1-5", "views"});
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

void Ui::draw(Screen& s, Clock::time_point now) {
    s.begin_frame();
    draw_status_line(s, model_);
    draw_tabs(s);
    panel(view_).draw(s, model_, now);
    draw_bottom(s, now);
    for (const auto& d : dialogs_)
        d->draw(s, model_, now);
    s.end_frame();
}

}  // namespace tsnitch::tui
