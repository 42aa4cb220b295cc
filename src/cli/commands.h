// One function per subcommand of DESIGN.md §3. Each parses its own options (argv[0] is the
// subcommand's name) and returns the exit status: 0 ok, 1 runtime failure, 2 bad usage or bad
// configuration.
#pragma once

#include <cstdio>
#include <string>

#include "core/config.h"

namespace tsnitch::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailure = 1;
inline constexpr int kExitUsage = 2;

int run(int argc, char** argv);
int attach(int argc, char** argv);
// The TUI over the daemon's control socket at `socket` (`tsnitch attach`, and `tsnitch run` when
// a daemon runs already).
int attach_to_daemon(const std::string& socket, const Config& config);
int monitor(int argc, char** argv);
int sockets(int argc, char** argv);
int rules(int argc, char** argv);
int check(int argc, char** argv);

// tsnitch's usage text (`tsnitch --help`, `tsnitch run --help`).
void print_tsnitch_usage(FILE* f);

// Prints "tsnitch: MESSAGE" on standard error ("<3>MESSAGE" for systemd's journal).
void print_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

}  // namespace tsnitch::cli
