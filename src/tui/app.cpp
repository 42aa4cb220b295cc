// The UI loop: wait on the terminal and the DaemonLink's wake-up fd together, hand the daemon's
// events and the keys to the Ui (ui.h), draw. One thread; curses only here and in the drawing.
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "tui/keys.h"
#include "tui/screen.h"
#include "tui/tui.h"
#include "tui/ui.h"

namespace tsnitch::tui {

namespace {

using namespace std::chrono_literals;

int run_loop(DaemonLink& link, Ui& ui, Screen& screen) {
    // Keys redraw at once; daemon updates at most every kFrame, so that a flood of events costs
    // a bounded amount of drawing.
    constexpr auto kFrame = 33ms;
    ui.apply(link.drain(), Clock::now());
    bool dirty = true;
    Clock::time_point last_draw{};
    while (!ui.done()) {
        ui.update_socket_subscription();
        auto now = Clock::now();
        if (dirty && now - last_draw >= kFrame) {
            ui.draw(screen, now);
            last_draw = now;
            dirty = false;
        }
        // A prompt on screen counts down; otherwise wake for the clock once a second.
        int timeout_ms = ui.prompt_shown() ? 200 : 1000;
        if (dirty) {
            timeout_ms = static_cast<int>(
                std::chrono::ceil<std::chrono::milliseconds>(last_draw + kFrame - now).count());
        }
        // A negative fd is ignored by poll().
        pollfd fds[2] = {{STDIN_FILENO, POLLIN, 0}, {link.wake_fd(), POLLIN, 0}};
        const int n = ::poll(fds, 2, std::max(timeout_ms, 0));
        if (n < 0 && errno != EINTR) {
            std::fprintf(stderr, "tsnitch: waiting for keys: %s\n", std::strerror(errno));
            return 1;
        }
        dirty = true;  // a tick, an update, a key or a resize: the screen changes
        if (n > 0 && (fds[0].revents & (POLLHUP | POLLERR))) return 1;  // the terminal is gone
        if (n > 0 && (fds[1].revents & POLLIN)) ui.apply(link.drain(), Clock::now());
        // SIGWINCH interrupts poll (EINTR) and curses then returns KEY_RESIZE.
        for (int k; !ui.done() && (k = screen.read_key()) != -1;) {
            if (k == key::resize || k == key::ctrl_l) {
                clearok(curscr, TRUE);
            } else {
                ui.handle_key(k, Clock::now(), static_cast<size_t>(list_rows(screen)));
            }
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
        Ui ui(link, options);
        rc = run_loop(link, ui, **screen);
        reason = ui.stop_reason();
    }
    (*screen).reset();  // the terminal is the shell's again
    if (!reason.empty()) std::fprintf(stderr, "tsnitch: %s\n", reason.c_str());
    return rc;
}

}  // namespace tsnitch::tui
