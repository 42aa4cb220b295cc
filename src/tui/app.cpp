// The UI loop: wait on the terminal and the DaemonLink's wake-up fd together, apply the daemon's
// events to the UI's own view of it, hand keys to the prompt or the current view (which send
// commands back), draw. One thread; curses only here.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cwchar>
#include <map>
#include <type_traits>

#include "core/rules/rule_for_connection.h"
#include "tui/keys.h"
#include "tui/screen.h"
#include "tui/sockets_view.h"
#include "tui/tui.h"
#include "tui/ui_state.h"

namespace tsnitch::tui {

namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

class App {
  public:
    App(DaemonLink& link, const TuiOptions& options, Screen& screen)
        : link_(link), screen_(screen), st_(options) {}

    int run();
    // Why the daemon went away, when it did (told on standard error once curses is gone).
    const std::string& stop_reason() const { return stop_reason_; }

  private:
    // A command on its way; its CommandResult says how it went.
    struct Sent {
        std::string what;        // for an error: "answering the prompt: ..."
        std::string on_success;  // said in the bottom line when done; empty: nothing
    };
    template <class Body>
    void send(Body body, std::string what, std::string on_success = "");
    void apply(std::vector<DaemonEvent> events, Clock::time_point now);
    void apply_event(DaemonEvent& e, Clock::time_point now);
    void apply_snapshot(Snapshot& s, Clock::time_point now);
    void apply_decisions(std::vector<DecisionEvent> events);
    void apply_table(SocketTableUpdate& u);
    void prompts_changed(Clock::time_point now);
    void update_socket_subscription();
    void sync_form(Clock::time_point now);
    void handle_key(int k, Clock::time_point now);
    void handle_prompt_key(int k, Clock::time_point now);
    void handle_dialog_key(int k, Clock::time_point now);
    bool handle_rule_form_key(PromptForm& form, int k, Clock::time_point now);
    void handle_connections_key(int k);
    void handle_view_key(int k);
    ListCursor* cursor();
    void handle_filter_key(int k);
    void handle_rules_key(int k);
    bool handle_edit_key(RuleEdit& e, int k);
    bool handle_sockets_key(int k);
    void open_process(std::optional<int> pid, const std::string& name);
    void report(const Status& s, const std::string& what);
    void say(std::string text);

    DaemonLink& link_;
    Screen& screen_;
    UiState st_;
    uint64_t next_request_ = 1;
    std::map<uint64_t, Sent> sent_;
    // The socket table is asked for while the Sockets tab is on screen (and costs nothing else).
    bool sockets_on_ = false;
    std::optional<int> sockets_focus_;
    bool sockets_all_fds_ = false;
    bool quit_ = false;
    std::string stop_reason_;
};

template <class Body>
void App::send(Body body, std::string what, std::string on_success) {
    const uint64_t request = next_request_++;
    sent_[request] = Sent{std::move(what), std::move(on_success)};
    link_.send(DaemonCommand{request, std::move(body)});
}

void App::say(std::string text) {
    st_.message = std::move(text);
    st_.message_until = Clock::now() + 5s;
}

void App::apply_table(SocketTableUpdate& u) {
    st_.table_error = u.error;
    if (!u.error.empty() && u.table.taken == std::chrono::system_clock::time_point{}) return;
    auto names =
        std::make_shared<std::vector<std::pair<IpAddress, std::string>>>(std::move(u.host_names));
    st_.host_names = [names](const IpAddress& a) -> std::optional<std::string> {
        for (const auto& [addr, name] : *names)
            if (addr == a) return name;
        return std::nullopt;
    };
    auto snap = std::make_shared<const SocketTableSnapshot>(std::move(u.table));
    st_.rates.update(snap->processes, snap->taken);
    // A process that ended has no sockets left: its lines fade out like closed ones.
    if (st_.open_pid && snap->focus_pid == st_.open_pid)
        st_.socket_list.update(snap->focus ? snap->focus->sockets : std::vector<SocketRow>{});
    st_.table = std::move(snap);
}

// Asks for the socket table while the Sockets tab shows, with the opened process in full.
void App::update_socket_subscription() {
    const bool want = st_.view == View::sockets;
    if (want == sockets_on_ &&
        (!want || (sockets_focus_ == st_.open_pid && sockets_all_fds_ == st_.all_fds)))
        return;
    sockets_on_ = want;
    sockets_focus_ = st_.open_pid;
    sockets_all_fds_ = st_.all_fds;
    SubscribeSockets s;
    s.on = want;
    s.interval = st_.options.socket_interval;
    s.focus_pid = st_.open_pid;
    s.all_fds = st_.all_fds;
    send(s, "the socket table");
}

void App::open_process(std::optional<int> pid, const std::string& name) {
    st_.open_pid = pid;
    st_.open_name = name;
    st_.socket_list.clear();
    st_.socks = {};
    update_socket_subscription();
}

// Keys of the Sockets tab that mean something else elsewhere; true when used.
bool App::handle_sockets_key(int k) {
    if (!st_.open_pid) {
        switch (k) {
            case 's':
            case key::f(6):
                st_.proc_order = static_cast<ProcessOrder>((static_cast<int>(st_.proc_order) + 1) %
                                                           kProcessOrders);
                return true;
            case 'S':
                st_.proc_reverse = !st_.proc_reverse;
                return true;
            case '/':
                st_.editing_filter = true;
                return true;
            case key::escape:
                st_.proc_filter.clear();
                return true;
            case key::enter: {
                const auto procs = visible_processes(st_);
                if (procs.empty()) return true;
                const ProcessSummary& p = procs[std::min(st_.procs.selected, procs.size() - 1)];
                open_process(p.pid, p.exe.empty() ? p.comm : p.comm + " (" + p.exe + ")");
                return true;
            }
            default:
                return false;
        }
    }
    switch (k) {
        case key::escape:
        case key::left:
        case key::backspace:
            open_process(std::nullopt, "");
            return true;
        case 'f':
            st_.all_fds = !st_.all_fds;
            update_socket_subscription();
            return true;
        case 'K': {
            const auto lines = socket_view_lines(st_);
            if (lines.empty()) return true;
            const SocketViewLine& l = lines[std::min(st_.socks.selected, lines.size() - 1)];
            if (!l.row || !l.row->inet) {
                report(make_error("only TCP and UDP sockets can be closed"), "K");
                return true;
            }
            st_.dialog = KillConfirm{*l.row->inet, l.text};
            return true;
        }
        case 'a':
        case 'd': {
            const ProcessSummary* p = nullptr;
            if (st_.table) {
                for (const ProcessSummary& q : st_.table->processes)
                    if (q.pid == *st_.open_pid) p = &q;
            }
            if (!p || p->exe.empty()) {
                report(make_error("its executable is unknown"), "making a rule for this process");
                return true;
            }
            // The selected socket's peer gives the destination scopes; without one (a listener,
            // another fd) only the process's scopes are offered.
            Connection c;
            const auto lines = socket_view_lines(st_);
            if (!lines.empty()) {
                const SocketViewLine& l = lines[std::min(st_.socks.selected, lines.size() - 1)];
                if (l.row && l.row->inet && l.row->inet->has_peer()) {
                    const InetSocket& i = *l.row->inet;
                    c.protocol = i.protocol;
                    c.src = i.src;
                    c.src_port = i.src_port;
                    c.dst = i.dst;
                    c.dst_port = i.dst_port;
                    if (st_.host_names) c.dst_host = st_.host_names(i.dst);
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
            st_.dialog =
                RuleForm{PromptForm::for_new_rule(c, k == 'a' ? Action::allow : Action::deny)};
            return true;
        }
        default:
            return false;
    }
}

void App::report(const Status& s, const std::string& what) {
    if (s) return;
    st_.message = what + ": " + s.error().message;
    st_.message_until = Clock::now() + 5s;
}

void App::apply(std::vector<DaemonEvent> events, Clock::time_point now) {
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
    if (prompts) prompts_changed(now);
}

void App::apply_decisions(std::vector<DecisionEvent> events) {
    // Keep the selected event selected while new ones arrive above it (unless following).
    if (st_.conn.selected > 0) {
        size_t added = 0;
        for (const auto& e : events)
            added += event_matches(e, st_.filter) ? 1 : 0;
        st_.conn.selected += added;
        st_.conn.top += added;
    }
    // Hits are counted here as the daemon counts them, from the Snapshot's numbers on.
    bool hit = false;
    for (const auto& e : events) {
        if (e.reason != Reason::rule || !e.rule) continue;
        for (RuleSummary& r : st_.rules)
            if (r.name == *e.rule) ++r.hits, hit = true;
    }
    if (hit && st_.rule_order == RuleOrder::hits)
        st_.rules = sorted_rules(std::move(st_.rules), st_.rule_order);
    st_.log.add(std::move(events));
}

void App::apply_snapshot(Snapshot& s, Clock::time_point now) {
    st_.status = status_of(s.status);
    std::vector<RuleSummary> rules;
    for (const RuleRecord& r : s.rules)
        rules.push_back(summary_of(r));
    st_.rules = sorted_rules(std::move(rules), st_.rule_order);
    st_.pending.clear();
    for (const PromptRecord& p : s.prompts)
        st_.pending.push_back(pending_of(p, now));
    apply_decisions(std::move(s.recent));
    for (const LogRecord& l : s.log) {
        st_.log_lines.push_back(line_of(l));
        if (st_.log_lines.size() > kMaxLogLines) st_.log_lines.pop_front();
    }
    if (!s.review.empty()) {
        say(std::to_string(s.review.size()) +
            " decisions were made while nobody was attached: see the Connections view");
    }
    std::vector<DecisionEvent> review;
    for (ReviewRecord& r : s.review)
        review.push_back(std::move(r.event));
    apply_decisions(std::move(review));
}

void App::apply_event(DaemonEvent& event, Clock::time_point now) {
    std::visit(
        [&](auto& e) {
            using T = std::decay_t<decltype(e)>;
            if constexpr (std::is_same_v<T, Snapshot>) {
                apply_snapshot(e, now);
            } else if constexpr (std::is_same_v<T, PromptOpened>) {
                st_.pending.push_back(pending_of(e.prompt, now));
            } else if constexpr (std::is_same_v<T, PromptJoined>) {
                for (PendingPrompt& p : st_.pending)
                    if (p.id == e.id) p.joined = e.joined;
            } else if constexpr (std::is_same_v<T, PromptClosed>) {
                std::erase_if(st_.pending, [&](const PendingPrompt& p) { return p.id == e.id; });
                std::erase(st_.answered, e.id);
            } else if constexpr (std::is_same_v<T, RulesChanged>) {
                std::vector<RuleSummary> rules;
                for (const RuleRecord& r : e.rules)
                    rules.push_back(summary_of(r));
                st_.rules = sorted_rules(std::move(rules), st_.rule_order);
            } else if constexpr (std::is_same_v<T, StatusChanged>) {
                st_.status = status_of(e.status);
            } else if constexpr (std::is_same_v<T, LogAppended>) {
                // Warnings and errors also show in the bottom line for a moment, whatever the
                // view.
                if (e.line.level >= LogLevel::warning) say(e.line.text);
                st_.log_lines.push_back(line_of(e.line));
                if (st_.log_lines.size() > kMaxLogLines) st_.log_lines.pop_front();
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

void App::prompts_changed(Clock::time_point now) {
    st_.pending = prompt_queue(std::move(st_.pending), st_.answered);
    sync_form(now);
}

// The prompt on screen is always the oldest pending one; a new one starts its key delay.
void App::sync_form(Clock::time_point now) {
    if (st_.pending.empty()) {
        st_.form.reset();
        return;
    }
    const PendingPrompt& front = st_.pending.front();
    if (st_.form && st_.form->prompt_id() == front.id) {
        st_.form->refresh(front);
        return;
    }
    st_.form.emplace(front, st_.options.default_duration, st_.options.prompt_key_delay, now);
}

void App::handle_prompt_key(int k, Clock::time_point now) {
    const auto answer = st_.form->handle_key(k, now);
    if (!answer) return;
    const uint64_t id = st_.form->prompt_id();
    send(AnswerPrompt{id, answer->action, answer->duration, answer->rule}, "answering the prompt");
    st_.answered.push_back(id);
    st_.pending = prompt_queue(std::move(st_.pending), st_.answered);
    st_.form.reset();
    sync_form(now);
}

// The form of a rule made from a row: Esc cancels, a confirmed answer adds the rule. True when
// the form closes.
bool App::handle_rule_form_key(PromptForm& form, int k, Clock::time_point now) {
    if (k == key::escape) return true;
    if (k == key::ctrl_c || k == key::f(10)) {
        st_.confirm_quit = true;
        return false;
    }
    const auto answer = form.handle_key(k, now);
    if (!answer) return false;
    if (!answer->rule) {
        say("no rule: this process offers nothing to match on");
        return true;
    }
    const std::string name = answer->rule->name;
    send(AddRule{*answer->rule}, "adding rule " + name, "added rule " + name);
    return true;
}

// The open dialog takes the key; it closes when its handler says so.
void App::handle_dialog_key(int k, Clock::time_point now) {
    const bool close = std::visit(
        [&](auto& d) -> bool {
            using T = std::decay_t<decltype(d)>;
            if constexpr (std::is_same_v<T, KillConfirm>) {
                if (k == 'y' || k == 'Y') send(CloseSocket{d.socket}, "closing the socket");
                return true;
            } else if constexpr (std::is_same_v<T, DeleteConfirm>) {
                if (k == 'y' || k == 'Y') send(DeleteRule{d.name}, "deleting " + d.name);
                return true;
            } else if constexpr (std::is_same_v<T, RuleEdit>) {
                return handle_edit_key(d, k);
            } else {
                return handle_rule_form_key(d.form, k, now);
            }
        },
        *st_.dialog);
    if (close) st_.dialog.reset();
}

void App::handle_filter_key(int k) {
    std::string& filter = st_.view == View::sockets ? st_.proc_filter : st_.filter;
    switch (k) {
        case key::enter:
            st_.editing_filter = false;
            break;
        case key::escape:
            st_.editing_filter = false;
            filter.clear();
            break;
        case key::backspace:
            // Remove one UTF-8 character.
            while (!filter.empty() && (filter.back() & 0xc0) == 0x80)
                filter.pop_back();
            if (!filter.empty()) filter.pop_back();
            break;
        default:
            if (k >= 0x20 && k < key::special && k != 0x7f && filter.size() < 200) {
                char buf[8];
                std::mbstate_t ms{};
                const size_t n = std::wcrtomb(buf, static_cast<wchar_t>(k), &ms);
                if (n != static_cast<size_t>(-1)) filter.append(buf, n);
            }
            break;
    }
    st_.conn = {};
    st_.procs = {};
}

// True when the dialog closes.
bool App::handle_edit_key(RuleEdit& e, int k) {
    const size_t nd = rule_durations().size();
    switch (k) {
        case key::escape:
            return true;
        case key::enter:
            send(ChangeRule{e.name, e.action, rule_durations()[e.duration]},
                 "changing rule " + e.name);
            return true;
        case key::tab:
        case key::backtab:
        case key::up:
        case key::down:
            e.field = 1 - e.field;
            return false;
        case key::left:
        case key::right: {
            const int step = k == key::left ? -1 : 1;
            if (e.field == 0) {
                const int a = (static_cast<int>(e.action) + step + 3) % 3;
                e.action = static_cast<Action>(a);
            } else {
                e.duration = (e.duration + (step > 0 ? 1 : nd - 1)) % nd;
            }
            return false;
        }
        default:
            return false;
    }
}

void App::handle_rules_key(int k) {
    if (k == 's') {
        st_.rule_order = st_.rule_order == RuleOrder::name ? RuleOrder::hits : RuleOrder::name;
        st_.rules = sorted_rules(std::move(st_.rules), st_.rule_order);
        return;
    }
    if (st_.rules.empty()) return;
    st_.rule_list.selected = std::min(st_.rule_list.selected, st_.rules.size() - 1);
    const RuleSummary& r = st_.rules[st_.rule_list.selected];
    switch (k) {
        case ' ':
            send(EnableRule{r.name, !r.enabled}, (r.enabled ? "disabling " : "enabling ") + r.name);
            break;
        case 'x':
        case key::del:
            st_.dialog = DeleteConfirm{r.name};
            break;
        case 'e':
        case key::enter: {
            RuleEdit e;
            e.name = r.name;
            e.was = e.action = r.action;
            const auto& d = rule_durations();
            const auto it = std::find(d.begin(), d.end(), r.duration);
            e.duration = it == d.end() ? d.size() - 1 : static_cast<size_t>(it - d.begin());
            st_.dialog = e;
            break;
        }
        default:
            break;
    }
}

// The list the current view moves in (the Log scrolls by lines back instead).
ListCursor* App::cursor() {
    switch (st_.view) {
        case View::connections:
            return &st_.conn;
        case View::rules:
            return &st_.rule_list;
        case View::help:
            return &st_.help;
        case View::sockets:
            return st_.open_pid ? &st_.socks : &st_.procs;
        case View::stats:
        case View::log:
            return nullptr;
    }
    return nullptr;
}

void App::handle_view_key(int k) {
    const auto page = static_cast<size_t>(list_rows(screen_));
    if (st_.view == View::sockets && handle_sockets_key(k)) return;
    // The monitor has no decisions, rules or log to show: 4 (or Esc from help) is its view.
    if (st_.options.monitor && ((k >= '1' && k <= '5' && k != '4') ||
                                (k >= key::f(2) && k <= key::f(6) && k != key::f(5))))
        return;
    switch (k) {
        case '1':
        case key::f(2):
            st_.view = View::connections;
            return;
        case '2':
        case key::f(3):
            st_.view = View::rules;
            return;
        case '3':
        case key::f(4):
            st_.view = View::stats;
            return;
        case '4':
        case key::f(5):
            st_.view = View::sockets;
            return;
        case '5':
        case key::f(6):
            st_.view = View::log;
            return;
        case '?':
        case 'h':
        case key::f(1):
            if (st_.view != View::help) st_.before_help = st_.view;
            st_.view = View::help;
            return;
        case 'q':
        case key::f(10):
        case key::ctrl_c:
            if (st_.options.monitor)
                quit_ = true;  // no firewall to remove: nothing to confirm
            else
                st_.confirm_quit = true;
            return;
        case '/':
            if (st_.view == View::connections) st_.editing_filter = true;
            return;
        case key::escape:
            if (st_.view == View::connections) st_.filter.clear();
            if (st_.view == View::help) st_.view = st_.before_help;
            return;
        default:
            break;
    }
    if (st_.view == View::log) {  // the newest line is at the bottom: Up goes back in time
        size_t& back = st_.log_back;
        switch (k) {
            case key::up:
            case 'k':
                ++back;  // clamped when drawn
                return;
            case key::down:
            case 'j':
                back -= std::min<size_t>(back, 1);
                return;
            case key::page_up:
                back += page;
                return;
            case key::page_down:
                back -= std::min(back, page);
                return;
            case key::end:
                back = 0;
                return;
            case key::home:
                back = kMaxLogLines;
                return;
            default:
                return;
        }
    }
    if (ListCursor* c = cursor(); c && c->handle_key(k, page)) return;
    if (st_.view == View::rules) handle_rules_key(k);
    if (st_.view == View::connections) handle_connections_key(k);
}

// a/d on a Connections row: a rule for that connection, made in the prompt's form.
void App::handle_connections_key(int k) {
    if (k != 'a' && k != 'd') return;
    const auto rows = st_.log.filtered(st_.filter);
    if (rows.empty()) return;
    const DecisionEvent& e = *rows[std::min(st_.conn.selected, rows.size() - 1)];
    st_.dialog =
        RuleForm{PromptForm::for_new_rule(e.connection, k == 'a' ? Action::allow : Action::deny)};
}

void App::handle_key(int k, Clock::time_point now) {
    if (k == key::resize || k == key::ctrl_l) {
        clearok(curscr, TRUE);
        return;
    }
    if (st_.confirm_quit) {
        st_.confirm_quit = false;
        if (k == 'y' || k == 'Y') quit_ = true;
        return;
    }
    if (st_.form) {
        // Ctrl-C and F10 still reach the quit question while a prompt is open.
        // Quitting stays possible while a prompt is open (q only after the key delay, like the
        // prompt's own keys).
        if (k == key::ctrl_c || k == key::f(10) || (k == 'q' && !st_.form->ignoring_keys(now))) {
            st_.confirm_quit = true;
            return;
        }
        // The view behind the prompt can still be switched: these keys mean nothing to it.
        if ((k >= '1' && k <= '5') || (k >= key::f(2) && k <= key::f(6))) {
            handle_view_key(k);
            return;
        }
        handle_prompt_key(k, now);
        return;
    }
    if (st_.dialog) {
        handle_dialog_key(k, now);
        return;
    }
    if (st_.editing_filter) {
        handle_filter_key(k);
        return;
    }
    handle_view_key(k);
}

int App::run() {
    // Keys redraw at once; backend updates at most every kFrame, so that a flood of events costs
    // a bounded amount of drawing.
    constexpr auto kFrame = 33ms;
    apply(link_.drain(), Clock::now());
    bool dirty = true;
    Clock::time_point last_draw{};
    if (st_.options.monitor) st_.view = st_.before_help = View::sockets;
    while (!quit_) {
        update_socket_subscription();
        auto now = Clock::now();
        if (dirty && now - last_draw >= kFrame) {
            draw_ui(screen_, st_, now);
            last_draw = now;
            dirty = false;
        }
        // A prompt on screen counts down; otherwise wake for the clock once a second.
        int timeout_ms = st_.form ? 200 : 1000;
        if (dirty) {
            timeout_ms = static_cast<int>(
                std::chrono::ceil<std::chrono::milliseconds>(last_draw + kFrame - now).count());
        }
        // A negative fd is ignored by poll().
        pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {link_.wake_fd(), POLLIN, 0}};
        const int n = ::poll(fds, 2, std::max(timeout_ms, 0));
        if (n < 0 && errno != EINTR) {
            std::fprintf(stderr, "tsnitch: waiting for keys: %s\n", std::strerror(errno));
            return 1;
        }
        dirty = true;  // a tick, an update, a key or a resize: the screen changes
        if (n > 0 && (fds[0].revents & (POLLHUP | POLLERR))) return 1;  // the terminal is gone
        if (n > 0 && (fds[1].revents & POLLIN)) apply(link_.drain(), Clock::now());
        // SIGWINCH interrupts poll (EINTR) and curses then returns KEY_RESIZE.
        for (int k; !quit_ && (k = screen_.read_key()) != -1;) {
            handle_key(k, Clock::now());
            last_draw = {};
        }
    }
    return 0;
}

}  // namespace

int run_tui(DaemonLink& link, const TuiOptions& options) {
    if (!::isatty(STDIN_FILENO) || !::isatty(STDOUT_FILENO)) {
        std::fprintf(stderr, "tsnitch: the terminal UI needs a terminal (use --headless)\n");
        return 1;
    }
    const bool utf8 = setup_locale();
    auto screen = Screen::open(utf8, colors_wanted());
    if (!screen) {
        std::fprintf(stderr, "tsnitch: %s\n", screen.error().message.c_str());
        return 1;
    }
    int rc = 0;
    std::string reason;
    {
        App app(link, options, **screen);
        rc = app.run();
        reason = app.stop_reason();
    }
    (*screen).reset();  // the terminal is the shell's again
    if (!reason.empty()) std::fprintf(stderr, "tsnitch: %s\n", reason.c_str());
    return rc;
}

}  // namespace tsnitch::tui
