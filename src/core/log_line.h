// How a message is written on standard error: "tsnitch: TEXT" for a person at a terminal, or
// "<N>TEXT" with the syslog priority N when systemd's journal reads the stream (sd-daemon(3)), so
// that `journalctl -p warning` finds tsnitch's warnings and the journal adds its own prefix.
#pragma once

#include <string>
#include <string_view>

#include "core/config.h"

namespace tsnitch {

enum class LogStyle : uint8_t { terminal, journal };

// The syslog priority of a level: debug 7, info 6, warning 4, error 3.
int syslog_priority(LogLevel level);

// True when `journal_stream` (the JOURNAL_STREAM variable, "DEVICE:INODE") names the file that
// standard error is (`dev`, `ino` from fstat): systemd sets it for a service whose output goes to
// the journal, and a child that redirected its stderr elsewhere must not be fooled by it.
bool journal_stream_matches(std::string_view journal_stream, unsigned long long dev,
                            unsigned long long ino);

// journal when JOURNAL_STREAM names this process's standard error, else terminal.
LogStyle stderr_log_style();

// The text for standard error, ending in '\n'. For the journal, each line of a text of several
// gets the prefix, as the journal reads every line as its own message.
std::string stderr_log_line(LogStyle style, LogLevel level, std::string_view text);

}  // namespace tsnitch
