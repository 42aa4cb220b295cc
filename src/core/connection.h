// A connection as the firewall sees it: the packet's 5-tuple, the user the kernel names, and what
// attribution and DNS add (process, host name). Formats: "SPORT:SRC -> DST:DPORT" and the event
// JSON line of DESIGN.md §3.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/address.h"

namespace tsnitch {

enum class Protocol : uint8_t {
    icmp = 1,
    tcp = 6,
    udp = 17,
    icmp6 = 58,
    sctp = 132,
    udplite = 136,
};

std::string_view protocol_name(Protocol p);  // "tcp", "udp", "udplite", "sctp", "icmp", "icmp6"
std::optional<Protocol> protocol_from_name(std::string_view name);
std::optional<Protocol> protocol_from_number(unsigned ip_protocol);
bool protocol_has_ports(Protocol p);

enum class Action : uint8_t { allow, deny, reject };
std::string_view action_name(Action a);
std::optional<Action> action_from_name(std::string_view name);

// How the process behind a connection was found.
enum class Method : uint8_t { ebpf, diag, proc, none };
std::string_view method_name(Method m);
std::optional<Method> method_from_name(std::string_view name);

// Why a decision was taken.
enum class Reason : uint8_t { rule, prompt, timeout, default_action, unknown_process };
std::string_view reason_name(
    Reason r);  // "rule", "prompt", "timeout", "default", "unknown-process"

struct ParentProcess {
    int pid = 0;
    std::string name;  // comm
    std::string path;  // exe, may be empty when unreadable
};

struct ProcessInfo {
    int pid = 0;
    int ppid = 0;
    uint32_t uid = 0;
    std::string user;  // empty when the uid has no name
    std::string comm;
    std::string path;  // exe; " (deleted)" kept when the binary was removed
    std::vector<std::string> args;
    std::string cwd;
    uint64_t start_time =
        0;  // clock ticks since boot (/proc/PID/stat field 22): tells pid reuse apart
    std::vector<ParentProcess> parents;                    // nearest first
    std::vector<std::pair<std::string, std::string>> env;  // read only when a rule asks for it
};

// A process as attribution found it, shared by every decision, event and prompt about it: one
// ProcessInfo per process and program (core/attribution/process_model.h), never a copy per packet.
using ProcessRef = std::shared_ptr<const ProcessInfo>;

// A copy of `p` (an empty ProcessInfo when null) that `p` now points to, to be changed: every
// other holder keeps the process as it was shared.
ProcessInfo& copy_to_change(ProcessRef& p);

struct Connection {
    Protocol protocol = Protocol::tcp;
    IpAddress src;
    uint16_t src_port = 0;
    IpAddress dst;
    uint16_t dst_port = 0;
    std::optional<uint32_t> uid;  // from the kernel (NFQA_UID) or the socket
    ProcessRef process;           // null when no process was found
    std::optional<std::string> dst_host;
    std::string iface_in;
    std::string iface_out;

    // Where it goes, as people read it: "example.com:443" (dst_host when known), "10.0.2.2:53",
    // "[2001:db8::1]:53", and without a port for ICMP: "10.0.2.2".
    std::string destination_text() const;
};

// Where a decision was taken: in user space for a queued packet, or by the kernel's verdict
// cache (DESIGN.md §8a), which repeats a decision user space made before.
enum class DecisionPath : uint8_t { queue, kernel };
std::string_view decision_path_name(DecisionPath p);  // "queue", "kernel"

// One decision as written to --events (DESIGN.md §3).
struct DecisionEvent {
    std::chrono::system_clock::time_point time;
    Action action = Action::deny;
    Reason reason = Reason::default_action;
    std::optional<std::string> rule;
    Connection connection;
    Method method = Method::none;
    uint64_t attribution_us = 0;
    DecisionPath path = DecisionPath::queue;
};

std::string event_json(const DecisionEvent& e);
std::string iso8601_utc_ms(std::chrono::system_clock::time_point t);  // 2026-11-28T20:01:02.345Z
// The same, appended to `out` (no string of its own: the event line writes it for every event).
void append_iso8601_utc_ms(std::string& out, std::chrono::system_clock::time_point t);

}  // namespace tsnitch
