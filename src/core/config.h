// tsnitch's configuration (DESIGN.md §4): JSON or YAML, every key checked. A wrong type, an unknown
// value, an unknown key or a key given twice is an error that names the file, the line and the key.
// OpenSnitch's daemon configuration (/etc/opensnitchd/default-config.json) is read too: its keys
// that mean the same are used (numeric LogLevel, Server.LogFile, Rules.Path,
// FwOptions.QueueBypass), and those that mean nothing here are accepted and named in config_notice.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/connection.h"
#include "core/duration.h"
#include "core/fs.h"
#include "core/result.h"

namespace tsnitch {

enum class FirewallBackend : uint8_t { automatic, iptables, nftables };
std::string_view firewall_backend_name(FirewallBackend b);  // "auto", "iptables", "nftables"

enum class LogLevel : uint8_t { debug, info, warning, error };
std::string_view log_level_name(LogLevel l);

struct Config {
    Action default_action = Action::deny;
    RuleDuration default_duration;   // once
    unsigned prompt_timeout_s = 30;  // 0: wait until answered
    bool intercept_unknown = false;
    Method proc_monitor_method = Method::ebpf;
    FirewallBackend firewall = FirewallBackend::automatic;
    uint16_t queue_num = 0;
    bool queue_bypass = true;
    bool queue_fail_open = false;
    bool intercept_loopback = false;
    std::string rules_path = "/etc/tsnitch/rules";
    LogLevel log_level = LogLevel::info;
    std::string log_file;     // empty: standard error (or the TUI's log view)
    std::string events_file;  // empty: none
    unsigned stats_max_events = 5000;
    unsigned stats_max_stats = 25;
    std::string control_socket = "/run/tsnitch/control.sock";
    std::string control_group;  // empty: root only

    std::string source;  // the file it came from, or "built-in default"
    // Keys read but without meaning for tsnitch (OpenSnitch's Server.Address, Ebpf.*, ...), in
    // the order of the file; config_notice names them.
    std::vector<std::string> ignored_keys;
};

// One line naming the ignored keys ("FILE: ignored, no meaning for tsnitch: A, B"), or "" when
// there are none. Said once, when the configuration is loaded.
std::string config_notice(const Config& c);

inline constexpr std::string_view kSystemConfigPath = "/etc/tsnitch/default-config.json";

// Parses a configuration text; `origin` names it in errors ("FILE:LINE: key 'X': expected ...").
// Keys absent from the text keep their defaults.
Result<Config> parse_config(std::string_view text, std::string_view origin);

// The built-in default (data/default-config.json compiled in).
Config builtin_config();
std::string_view builtin_config_text();

// Config files are read up to 1 MiB, as rule files; a larger file is an error.
inline constexpr size_t kConfigFileLimit = size_t{1} << 20;

// `-c FILE` when given; else /etc/tsnitch/default-config.json when it exists and this user may
// read it; else the built-in. The file must be a regular file of at most kConfigFileLimit bytes,
// owned by root or the running user and not group or world writable (read_settings_file).
Result<Config> load_config(const std::string& explicit_path,
                           std::string_view system_path = kSystemConfigPath,
                           const FileTrust& trust = FileTrust::running_user());

}  // namespace tsnitch
