#include "core/connection.h"

#include <ctime>

#include "core/json.h"

namespace tsnitch {

ProcessInfo& copy_to_change(ProcessRef& p) {
    auto copy = p ? std::make_shared<ProcessInfo>(*p) : std::make_shared<ProcessInfo>();
    ProcessInfo& changed = *copy;
    p = std::move(copy);
    return changed;
}

std::string_view protocol_name(Protocol p) {
    switch (p) {
        case Protocol::icmp:
            return "icmp";
        case Protocol::tcp:
            return "tcp";
        case Protocol::udp:
            return "udp";
        case Protocol::icmp6:
            return "icmp6";
        case Protocol::sctp:
            return "sctp";
        case Protocol::udplite:
            return "udplite";
    }
    return "unknown";
}

std::optional<Protocol> protocol_from_name(std::string_view name) {
    for (Protocol p : {Protocol::icmp, Protocol::tcp, Protocol::udp, Protocol::icmp6,
                       Protocol::sctp, Protocol::udplite}) {
        if (protocol_name(p) == name) return p;
    }
    // OpenSnitch writes tcp6/udp6 for the IPv6 variants.
    if (name == "tcp6") return Protocol::tcp;
    if (name == "udp6") return Protocol::udp;
    if (name == "udplite6") return Protocol::udplite;
    if (name == "sctp6") return Protocol::sctp;
    return std::nullopt;
}

std::optional<Protocol> protocol_from_number(unsigned n) {
    switch (n) {
        case 1:
            return Protocol::icmp;
        case 6:
            return Protocol::tcp;
        case 17:
            return Protocol::udp;
        case 58:
            return Protocol::icmp6;
        case 132:
            return Protocol::sctp;
        case 136:
            return Protocol::udplite;
        default:
            return std::nullopt;
    }
}

bool protocol_has_ports(Protocol p) {
    return p != Protocol::icmp && p != Protocol::icmp6;
}

std::string_view action_name(Action a) {
    switch (a) {
        case Action::allow:
            return "allow";
        case Action::deny:
            return "deny";
        case Action::reject:
            return "reject";
    }
    return "deny";
}

std::optional<Action> action_from_name(std::string_view name) {
    if (name == "allow") return Action::allow;
    if (name == "deny") return Action::deny;
    if (name == "reject") return Action::reject;
    return std::nullopt;
}

std::string_view method_name(Method m) {
    switch (m) {
        case Method::ebpf:
            return "ebpf";
        case Method::diag:
            return "diag";
        case Method::proc:
            return "proc";
        case Method::none:
            return "none";
    }
    return "none";
}

std::optional<Method> method_from_name(std::string_view name) {
    if (name == "ebpf") return Method::ebpf;
    if (name == "diag") return Method::diag;
    if (name == "proc") return Method::proc;
    return std::nullopt;
}

std::string_view reason_name(Reason r) {
    switch (r) {
        case Reason::rule:
            return "rule";
        case Reason::prompt:
            return "prompt";
        case Reason::timeout:
            return "timeout";
        case Reason::default_action:
            return "default";
        case Reason::unknown_process:
            return "unknown-process";
    }
    return "default";
}

std::string Connection::to_string() const {
    std::string s = std::to_string(src_port) + ":" + src.to_string() + " -> ";
    s += dst_host ? *dst_host : dst.to_string();
    s += ":" + std::to_string(dst_port);
    return s;
}

std::string iso8601_utc_ms(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    const time_t secs = static_cast<time_t>(ms / 1000);
    tm utc{};
    gmtime_r(&secs, &utc);
    char buf[40];
    const size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
    std::string s(buf, n);
    char frac[8];
    std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms % 1000));
    return s + frac;
}

std::string_view decision_path_name(DecisionPath p) {
    return p == DecisionPath::kernel ? "kernel" : "queue";
}

std::string event_json(const DecisionEvent& e) {
    const Connection& c = e.connection;
    std::string j = "{";
    j += "\"time\":" + json_quote(iso8601_utc_ms(e.time));
    j += ",\"action\":" + json_quote(action_name(e.action));
    j += ",\"reason\":" + json_quote(reason_name(e.reason));
    j += ",\"rule\":" + (e.rule ? json_quote(*e.rule) : std::string("null"));
    j += ",\"protocol\":" + json_quote(protocol_name(c.protocol));
    j += ",\"src_ip\":" + json_quote(c.src.to_string());
    j += ",\"src_port\":" + std::to_string(c.src_port);
    j += ",\"dst_ip\":" + json_quote(c.dst.to_string());
    j += ",\"dst_port\":" + std::to_string(c.dst_port);
    j += ",\"dst_host\":" + (c.dst_host ? json_quote(*c.dst_host) : std::string("null"));
    // A pid or uid nobody found is null, never 0: 0 would read as root or the kernel.
    const std::optional<uint32_t> uid = c.process ? std::optional(c.process->uid) : c.uid;
    j += ",\"uid\":" + (uid ? std::to_string(*uid) : std::string("null"));
    j += ",\"pid\":" +
         (c.process && c.process->pid > 0 ? std::to_string(c.process->pid) : std::string("null"));
    j += ",\"process_path\":" + json_quote(c.process ? c.process->path : std::string());
    j += ",\"process_args\":[";
    if (c.process) {
        for (size_t i = 0; i < c.process->args.size(); ++i) {
            if (i) j += ',';
            j += json_quote(c.process->args[i]);
        }
    }
    j += "]";
    j += ",\"method\":" + json_quote(method_name(e.method));
    j += ",\"attribution_us\":" + std::to_string(e.attribution_us);
    j += ",\"path\":" + json_quote(decision_path_name(e.path));
    j += "}";
    return j;
}

}  // namespace tsnitch
