// The Daemon's seam (DESIGN.md §2): the plain records a front end receives from a running firewall
// and the commands it sends back. Nothing here is live (no pointer into the daemon, no callback, no
// kernel handle), so the same records are served in process (the TUI of `tsnitch run`) and over a
// byte stream (`tsnitch attach`: the control socket, or SSH), encoded by core/control.
//
// Out: a Snapshot when a front end attaches, then deltas in order. In: commands, each with a
// request id that its CommandResult (or ProcessDetailsReply) carries back.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "core/attribution/socket_table.h"
#include "core/config.h"
#include "core/connection.h"
#include "core/duration.h"
#include "core/rules/rule.h"

namespace tsnitch {

// Bumped when a message or field changes meaning; the first message each way carries it.
inline constexpr unsigned kControlProtocolVersion = 1;

// ---- records ----

// A decision waiting for a person.
struct PromptRecord {
    uint64_t id = 0;        // stable while pending; never reused by this daemon
    Connection connection;  // with .process (parents nearest first, cwd, args) when found
    Method method = Method::none;
    std::chrono::system_clock::time_point opened;  // when the first packet arrived
    // Time left until DefaultAction when this record was made (nullopt: PromptTimeout 0). A
    // front end adds it to its own clock on receipt: steady clocks differ between machines.
    std::optional<std::chrono::milliseconds> remaining;
    Action default_action = Action::deny;  // applied at the deadline
    unsigned joined = 0;  // connections of the same process and destination that joined it
};

// The firewall's state for the status line.
struct StatusRecord {
    bool intercepting = false;
    std::vector<uint16_t> queues;  // NFQUEUE numbers in use
    Method method = Method::none;  // the attribution method in use
    std::string fallback_notice;   // e.g. "ebpf failed to load: diag in use"; empty when none
    std::string firewall;          // "iptables", "nftables"
    bool kernel_path = false;      // decided flows skip the queue (DESIGN.md §8a)
    size_t rule_count = 0;
    size_t broken_rule_files = 0;  // rule files that could not be read (reported in the log)
    size_t prompts_open = 0;
    size_t clients = 0;  // front ends attached
    uint64_t allowed = 0;
    uint64_t denied = 0;
    uint64_t rejected = 0;
    uint64_t queue_drops = 0;  // packets the kernel queue dropped (full, or no reader)
    uint64_t over_limit = 0;   // decisions given DefaultAction because too much was pending
};

// One rule as the daemon holds it.
struct RuleRecord {
    Rule rule;
    // Decisions it made since the daemon started. Sent whole in Snapshot and RulesChanged only;
    // in between, a front end adds one for each DecisionMade whose reason is rule and whose rule
    // is this one (the daemon counts the same way), so hits cost no message of their own.
    uint64_t hits = 0;
    std::optional<std::chrono::system_clock::time_point> expires;  // timed rules
};

// A message of the daemon (rule file errors, fallbacks, firewall repairs, ...).
struct LogRecord {
    std::chrono::system_clock::time_point time;
    LogLevel level = LogLevel::info;
    std::string text;
};

// A decision taken while no front end was attached (timeout / DefaultAction), kept (bounded) so
// that the next person can review it and make a rule from it.
struct ReviewRecord {
    uint64_t id = 0;
    DecisionEvent event;
};

// ---- daemon -> front end ----

struct Snapshot {
    StatusRecord status;
    std::vector<RuleRecord> rules;
    std::vector<PromptRecord> prompts;  // oldest first
    std::vector<DecisionEvent> recent;  // the newest decisions, oldest first (bounded)
    std::vector<LogRecord> log;         // the newest log lines, oldest first (bounded)
    std::vector<ReviewRecord> review;   // oldest first
};
struct DecisionMade {
    DecisionEvent event;
};
struct PromptOpened {
    PromptRecord prompt;
};
struct PromptJoined {  // more connections joined an open prompt
    uint64_t id = 0;
    unsigned joined = 0;
};
struct PromptClosed {
    uint64_t id = 0;
    Action action = Action::deny;
    Reason reason = Reason::default_action;  // prompt (answered), timeout, rule, default
    std::optional<std::string> rule;         // the rule that decided or was made by the answer
};
struct RulesChanged {  // the whole list: rules change rarely
    std::vector<RuleRecord> rules;
};
struct StatusChanged {
    StatusRecord status;
};
struct LogAppended {
    LogRecord line;
};
struct ReviewAdded {
    ReviewRecord item;
};
struct ReviewRemoved {
    uint64_t id = 0;
};
// The socket table, for a front end that subscribed; host names of the addresses in it. The
// table is shared by every front end it goes to (null: none, only an error).
struct SocketTableUpdate {
    std::shared_ptr<const SocketTableSnapshot> table;
    std::vector<std::pair<IpAddress, std::string>> host_names;
    std::string error;  // why the refresh failed; empty when it did not
};
struct CommandResult {
    uint64_t request = 0;
    std::string error;  // empty: done
};
struct ProcessDetailsReply {
    uint64_t request = 0;
    ProcessRef process;  // null when it could not be read (error says why)
    std::string error;
};
struct Stopping {  // the daemon is going away (signal, fatal error)
    std::string reason;
};

using DaemonEvent =
    std::variant<Snapshot, DecisionMade, PromptOpened, PromptJoined, PromptClosed, RulesChanged,
                 StatusChanged, LogAppended, ReviewAdded, ReviewRemoved, SocketTableUpdate,
                 CommandResult, ProcessDetailsReply, Stopping>;

// ---- front end -> daemon ----

struct AnswerPrompt {
    uint64_t prompt_id = 0;
    Action action = Action::deny;
    RuleDuration duration;     // once: this decision only
    std::optional<Rule> rule;  // the rule to store; nullopt exactly when duration is once
};
struct AddRule {  // stored like an answered prompt's rule (always: a file; timed: in memory)
    Rule rule;
};
struct ChangeRule {  // action and duration of an existing rule
    std::string name;
    Action action = Action::deny;
    RuleDuration duration;
};
struct EnableRule {
    std::string name;
    bool enabled = true;
};
struct DeleteRule {
    std::string name;
};
struct DismissReview {  // the person has seen it (after making a rule from it, or not)
    uint64_t id = 0;
};
struct SubscribeSockets {  // on: SocketTableUpdate every `interval` until turned off
    bool on = true;
    std::chrono::milliseconds interval{1500};
    std::optional<int> focus_pid;  // the process whose sockets come in full
    bool all_fds = false;
};
struct CloseSocket {  // SOCK_DESTROY of one TCP/UDP socket of the table
    InetSocket socket;
};
struct AskProcessDetails {
    int pid = 0;
};

struct DaemonCommand {
    uint64_t request = 0;  // chosen by the front end; echoed in the reply
    std::variant<AnswerPrompt, AddRule, ChangeRule, EnableRule, DeleteRule, DismissReview,
                 SubscribeSockets, CloseSocket, AskProcessDetails>
        body;
};

// What a front end holds: the daemon in this process, or a stream to one (`tsnitch attach`). The
// TUI cannot tell them apart. wake_fd() is readable (level-triggered) while drain() has events;
// drain() never blocks; send() never blocks (a stream client queues). A Stopping is the last
// event: the daemon went away, or dropped this front end because it fell behind.
class DaemonLink {
  public:
    virtual ~DaemonLink() = default;
    virtual int wake_fd() const = 0;
    virtual std::vector<DaemonEvent> drain() = 0;
    virtual void send(DaemonCommand command) = 0;
};

}  // namespace tsnitch
