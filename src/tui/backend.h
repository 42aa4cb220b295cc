// What the terminal UI needs from the firewall, and nothing more. The engine (in this process) or
// the control-socket client (`tsnitch attach`) implement it; the demo has a scripted fake.
// Threading: every member is called from the UI thread only. The backend may work on other
// threads; it makes wake_fd() readable when something changed, and the UI then calls drain().
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/attribution/socket_table.h"
#include "core/attribution/socket_view.h"
#include "core/config.h"
#include "core/connection.h"
#include "core/duration.h"
#include "core/result.h"
#include "core/rules/rule.h"

namespace tsnitch::tui {

// The person's answer to a prompt.
struct Answer {
    Action action = Action::deny;
    RuleDuration duration;  // once: this decision only
    // The rule to store (created/updated empty: the store stamps them); nullopt exactly when
    // duration is once.
    std::optional<Rule> rule;
};

// A decision waiting for the person.
struct PendingPrompt {
    uint64_t id = 0;               // stable while the prompt is pending; never reused
    Connection connection;         // with .process (parents nearest first, cwd, args) when found
    Method method = Method::none;  // how the process was found
    std::chrono::system_clock::time_point opened;                   // when the first packet arrived
    std::optional<std::chrono::steady_clock::time_point> deadline;  // nullopt: PromptTimeout 0
    Action default_action = Action::deny;  // applied at the deadline (and on Esc)
    unsigned joined = 0;  // packets/connections of the same process+destination that joined it
};

// The firewall's state for the status line.
struct EngineStatus {
    bool intercepting = false;
    uint16_t queue_num = 0;        // the first queue
    unsigned queue_count = 1;      // queues queue_num .. queue_num+queue_count-1 (one per CPU)
    uint64_t queue_dropped = 0;    // packets the kernel dropped (queue full or undeliverable)
    Method method = Method::none;  // the attribution method in use
    std::string fallback_notice;   // e.g. "ebpf failed to load: diag in use"; empty when none
    std::string firewall;          // "iptables", "nftables"
    size_t rule_count = 0;
    size_t pending_count = 0;
    uint64_t allowed = 0;
    uint64_t denied = 0;
    uint64_t rejected = 0;
};

// One line of the Rules view.
struct RuleSummary {
    std::string name;
    bool enabled = true;
    Action action = Action::deny;
    RuleDuration duration;
    std::string summary;  // describe_operator(rule.op), e.g. "process.path == /usr/bin/curl"
    uint64_t hits = 0;
};

// A message of the engine (rule file errors, fallbacks, ...): while the TUI owns the terminal,
// the log goes here instead of standard error, which would garble the screen.
struct LogLine {
    std::chrono::system_clock::time_point time;
    LogLevel level = LogLevel::info;
    std::string text;
};

// What changed since the previous drain(). Lists are whole (not deltas) when present.
struct BackendUpdate {
    std::vector<DecisionEvent> events;                  // new decisions, oldest first
    std::vector<LogLine> log;                           // new log lines, oldest first
    std::optional<std::vector<PendingPrompt>> pending;  // all pending prompts, when changed
    std::optional<std::vector<RuleSummary>> rules;      // all rules, when changed
    std::optional<EngineStatus> status;                 // when changed
    bool stop = false;  // the engine is stopping (signal, fatal error): run_tui() returns
};

class Backend {
  public:
    virtual ~Backend() = default;
    // A file descriptor that is readable while drain() has something (level-triggered, e.g. an
    // eventfd that drain() reads); the UI polls it together with the terminal.
    virtual int wake_fd() const = 0;
    // Never blocks; clears the wake-up. The first call returns everything (lists and status).
    virtual BackendUpdate drain() = 0;
    // Answers a pending prompt (ignored with an error when it is no longer pending).
    virtual Status answer(uint64_t prompt_id, const Answer& answer) = 0;
    // Rules view: enable/disable, delete (after the person confirmed), change action/duration.
    // Rules are named as in RuleSummary::name; the rule list comes back through drain().
    virtual Status set_rule_enabled(const std::string& name, bool enabled) = 0;
    virtual Status delete_rule(const std::string& name) = 0;
    virtual Status change_rule(const std::string& name, Action action, RuleDuration duration) = 0;

    // The live socket table of the Processes/Sockets views, started when first asked for (so
    // that it costs nothing until the view is opened); nullptr when this backend has none.
    virtual SocketMonitor* socket_monitor() { return nullptr; }
    // Host names for socket lines (the engine's DNS cache); empty when none are known.
    virtual HostNameLookup host_names() { return {}; }
    // A rule made in the Sockets view (`a`/`d`: this process's executable), stored like an
    // answered prompt's rule.
    virtual Status add_rule(const Rule&) {
        return make_error("rules can only be added while tsnitch intercepts (tsnitch run)");
    }
};

}  // namespace tsnitch::tui
