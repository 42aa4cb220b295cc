// The UI loop: wait on the terminal and the backend's wake-up fd together, apply what the backend
// drained, hand keys to the prompt or the current view, draw. One thread; curses only here.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <cwchar>

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
    App(Backend& backend, const TuiOptions& options, Screen& screen)
        : backend_(backend), screen_(screen), st_(options) {}

    int run();

  private:
    void apply(BackendUpdate u, Clock::time_point now);
    void sync_form(Clock::time_point now);
    void handle_key(int k, Clock::time_point now);
    void handle_prompt_key(int k, Clock::time_point now);
    void handle_view_key(int k);
    void handle_filter_key(int k);
    void handle_rules_key(int k);
    void handle_edit_key(int k);
    bool handle_sockets_key(int k);
    void open_process(std::optional<int> pid, const std::string& name);
    void apply_table();
    void report(const Status& s, const std::string& what);

    Backend& backend_;
    Screen& screen_;
    UiState st_;
    SocketMonitor* monitor_ = nullptr;  // started when the Sockets tab is first shown
    bool quit_ = false;
};

void App::apply_table() {
    std::string error;
    auto snap = monitor_->take(&error);
    st_.table_error = error;
    if (!snap) return;
    // A process that ended has no sockets left: its lines fade out like closed ones.
    if (st_.open_pid && snap->focus_pid == st_.open_pid)
        st_.socket_list.update(snap->focus ? snap->focus->sockets : std::vector<SocketRow>{});
    st_.table = std::move(snap);
}

void App::open_process(std::optional<int> pid, const std::string& name) {
    st_.open_pid = pid;
    st_.open_name = name;
    st_.socket_list.clear();
    st_.sock_selected = st_.sock_top = 0;
    if (monitor_) monitor_->set_focus(pid, st_.all_fds);
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
                const ProcessSummary& p = procs[std::min(st_.proc_selected, procs.size() - 1)];
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
            if (monitor_) monitor_->set_focus(st_.open_pid, st_.all_fds);
            return true;
        case 'K': {
            const auto lines = socket_view_lines(st_);
            if (lines.empty()) return true;
            const SocketViewLine& l = lines[std::min(st_.sock_selected, lines.size() - 1)];
            if (!l.row || !l.row->inet) {
                report(make_error("only TCP and UDP sockets can be closed"), "K");
                return true;
            }
            st_.confirm_kill = KillConfirm{*l.row->inet, l.text};
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
            Connection c;
            ProcessInfo info;
            info.pid = p->pid;
            info.uid = p->uid;
            info.path = p->exe;
            info.comm = p->comm;
            c.process = info;
            const Rule r = build_rule(c, Scope{ScopeKind::executable, {}},
                                      k == 'a' ? Action::allow : Action::deny,
                                      RuleDuration{RuleDuration::Kind::always, {}});
            st_.confirm_rule = RuleConfirm{r, p->exe};
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

void App::apply(BackendUpdate u, Clock::time_point now) {
    if (u.stop) quit_ = true;
    if (!u.events.empty()) {
        // Keep the selected event selected while new ones arrive above it (unless following).
        if (st_.conn_selected > 0) {
            size_t added = 0;
            for (const auto& e : u.events)
                added += event_matches(e, st_.filter) ? 1 : 0;
            st_.conn_selected += added;
            st_.conn_top += added;
        }
        st_.log.add(std::move(u.events));
    }
    for (auto& line : u.log) {
        // Warnings and errors also show in the bottom line for a moment, whatever the view.
        if (line.level >= LogLevel::warning) {
            st_.message = line.text;
            st_.message_until = Clock::now() + 5s;
        }
        st_.log_lines.push_back(std::move(line));
        if (st_.log_lines.size() > kMaxLogLines) st_.log_lines.pop_front();
    }
    if (u.status) st_.status = std::move(*u.status);
    if (u.rules) st_.rules = sorted_rules(std::move(*u.rules), st_.rule_order);
    if (u.pending) {
        // Forget answered ids the backend no longer lists: they are done.
        std::erase_if(st_.answered, [&](uint64_t id) {
            return std::none_of(u.pending->begin(), u.pending->end(),
                                [&](const PendingPrompt& p) { return p.id == id; });
        });
        st_.pending = prompt_queue(std::move(*u.pending), st_.answered);
        sync_form(now);
    }
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
    report(backend_.answer(id, *answer), "answering the prompt");
    st_.answered.push_back(id);
    st_.pending = prompt_queue(std::move(st_.pending), st_.answered);
    st_.form.reset();
    sync_form(now);
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
    st_.conn_selected = st_.conn_top = 0;
    st_.proc_selected = st_.proc_top = 0;
}

void App::handle_edit_key(int k) {
    RuleEdit& e = *st_.edit;
    const size_t nd = standard_durations().size();
    switch (k) {
        case key::escape:
            st_.edit.reset();
            return;
        case key::enter:
            report(backend_.change_rule(e.name, e.action, standard_durations()[e.duration]),
                   "changing rule " + e.name);
            st_.edit.reset();
            return;
        case key::tab:
        case key::backtab:
        case key::up:
        case key::down:
            e.field = 1 - e.field;
            return;
        case key::left:
        case key::right: {
            const int step = k == key::left ? -1 : 1;
            if (e.field == 0) {
                const int a = (static_cast<int>(e.action) + step + 3) % 3;
                e.action = static_cast<Action>(a);
            } else {
                e.duration = (e.duration + (step > 0 ? 1 : nd - 1)) % nd;
            }
            return;
        }
        default:
            return;
    }
}

void App::handle_rules_key(int k) {
    if (k == 's') {
        st_.rule_order = st_.rule_order == RuleOrder::name ? RuleOrder::hits : RuleOrder::name;
        st_.rules = sorted_rules(std::move(st_.rules), st_.rule_order);
        return;
    }
    if (st_.rules.empty()) return;
    st_.rule_selected = std::min(st_.rule_selected, st_.rules.size() - 1);
    const RuleSummary& r = st_.rules[st_.rule_selected];
    switch (k) {
        case ' ':
            report(backend_.set_rule_enabled(r.name, !r.enabled),
                   (r.enabled ? "disabling " : "enabling ") + r.name);
            break;
        case 'x':
        case key::del:
            st_.confirm_delete = r.name;
            break;
        case 'e':
        case key::enter: {
            RuleEdit e;
            e.name = r.name;
            e.action = r.action;
            const auto& d = standard_durations();
            const auto it = std::find(d.begin(), d.end(), r.duration);
            e.duration = it == d.end() ? d.size() - 1 : static_cast<size_t>(it - d.begin());
            st_.edit = e;
            break;
        }
        default:
            break;
    }
}

void App::handle_view_key(int k) {
    const auto page = static_cast<size_t>(list_rows(screen_));
    if (st_.view == View::sockets && handle_sockets_key(k)) return;
    // The monitor has no decisions, rules or log to show: 4 (or Esc from help) is its view.
    if (st_.options.monitor && ((k >= '1' && k <= '5' && k != '4') ||
                                (k >= key::f(2) && k <= key::f(6) && k != key::f(5))))
        return;
    if (st_.options.monitor && st_.view == View::help && k == key::escape) {
        st_.view = View::sockets;
        return;
    }
    size_t* selected = st_.view == View::connections ? &st_.conn_selected
                       : st_.view == View::rules     ? &st_.rule_selected
                       : st_.view == View::help      ? &st_.help_top
                       : st_.view == View::sockets
                           ? (st_.open_pid ? &st_.sock_selected : &st_.proc_selected)
                           : nullptr;
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
    if (selected) {
        switch (k) {
            case key::up:
            case 'k':
                if (*selected > 0) --*selected;
                return;
            case key::down:
            case 'j':
                ++*selected;  // clamped when drawn
                return;
            case key::page_up:
                *selected -= std::min(*selected, page);
                return;
            case key::page_down:
                *selected += page;
                return;
            case key::home:
                *selected = 0;
                return;
            case key::end:
                *selected = static_cast<size_t>(-1) / 2;
                return;
            default:
                break;
        }
    }
    if (st_.view == View::rules) handle_rules_key(k);
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
    if (st_.confirm_kill) {
        if (k == 'y' || k == 'Y') {
            report(destroy_socket(st_.confirm_kill->socket), "closing the socket");
            if (monitor_) monitor_->set_focus(st_.open_pid, st_.all_fds);
        }
        st_.confirm_kill.reset();
        return;
    }
    if (st_.confirm_rule) {
        if (k == 'y' || k == 'Y') {
            const std::string name = st_.confirm_rule->rule.name;
            const Status s = backend_.add_rule(st_.confirm_rule->rule);
            report(s, "adding rule " + name);
            if (s) {
                st_.message = "added rule " + name;
                st_.message_until = Clock::now() + 5s;
            }
        }
        st_.confirm_rule.reset();
        return;
    }
    if (st_.confirm_delete) {
        if (k == 'y' || k == 'Y') {
            report(backend_.delete_rule(*st_.confirm_delete), "deleting " + *st_.confirm_delete);
        }
        st_.confirm_delete.reset();
        return;
    }
    if (st_.edit) {
        handle_edit_key(k);
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
    apply(backend_.drain(), Clock::now());
    bool dirty = true;
    Clock::time_point last_draw{};
    if (st_.options.monitor) st_.view = View::sockets;
    while (!quit_) {
        if (st_.view == View::sockets && !monitor_) {
            monitor_ = backend_.socket_monitor();
            st_.host_names = backend_.host_names();
            if (!monitor_) st_.table_error = "the socket table is not available here";
        }
        if (monitor_) monitor_->set_paused(st_.view != View::sockets);
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
        pollfd fds[3] = {{STDIN_FILENO, POLLIN, 0},
                         {backend_.wake_fd(), POLLIN, 0},
                         {monitor_ ? monitor_->wake_fd() : -1, POLLIN, 0}};
        const int n = ::poll(fds, 3, std::max(timeout_ms, 0));
        if (n < 0 && errno != EINTR) {
            std::fprintf(stderr, "tsnitch: waiting for keys: %s\n", std::strerror(errno));
            return 1;
        }
        dirty = true;  // a tick, an update, a key or a resize: the screen changes
        if (n > 0 && (fds[0].revents & (POLLHUP | POLLERR))) return 1;  // the terminal is gone
        if (n > 0 && (fds[1].revents & POLLIN)) apply(backend_.drain(), Clock::now());
        if (n > 0 && (fds[2].revents & POLLIN)) apply_table();
        // SIGWINCH interrupts poll (EINTR) and curses then returns KEY_RESIZE.
        for (int k; !quit_ && (k = screen_.read_key()) != -1;) {
            handle_key(k, Clock::now());
            last_draw = {};
        }
    }
    return 0;
}

}  // namespace

int run_tui(Backend& backend, const TuiOptions& options) {
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
    App app(backend, options, **screen);
    return app.run();
}

}  // namespace tsnitch::tui
