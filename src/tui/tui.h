// The terminal UI's entry point: runs until the person quits (and confirms it).
#pragma once

#include <chrono>
#include <cstddef>

#include "core/daemon/records.h"
#include "core/duration.h"
#include "tui/ui_records.h"

namespace tsnitch::tui {

struct TuiOptions {
    RuleDuration default_duration;                    // DefaultDuration: preselected in prompts
    std::chrono::milliseconds prompt_key_delay{500};  // keys typed this soon after a prompt
                                                      // appears are ignored
    size_t max_events = 5000;                         // Stats.MaxEvents: the Connections log
    size_t max_stats = 25;                            // Stats.MaxStats: rows per Stats table
    // `tsnitch monitor`: no interception and no prompts; opens on the Processes view and quits
    // without asking (no firewall to remove).
    bool monitor = false;
    // `tsnitch attach`: the daemon runs elsewhere; quitting detaches and leaves its firewall on.
    bool attached = false;
    std::chrono::milliseconds socket_interval{1000};  // the Sockets view's refresh
};

// Takes over the terminal (curses) until the person quits or the daemon stops (its reason then
// goes to standard error); returns 0 then, 1 when the terminal could not be used (message on
// standard error). Must run on the thread that owns the terminal.
int run_tui(DaemonLink& link, const TuiOptions& options);

}  // namespace tsnitch::tui
