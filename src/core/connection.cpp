#include "core/connection.h"

#include <charconv>
#include <cstdint>

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

std::string Connection::destination_text() const {
    const bool ports = protocol_has_ports(protocol);
    std::string to;
    if (dst_host && !dst_host->empty()) {
        to = *dst_host;
    } else {
        to = ports ? address_before_port(dst.unmapped()) : dst.unmapped().to_string();
    }
    return ports ? to + ":" + std::to_string(dst_port) : to;
}

namespace {

// The proleptic Gregorian date of a day count since 1970-01-01 (H. Hinnant's days_from_civil,
// inverted): integer arithmetic only, where gmtime_r takes the time zone lock and strftime and
// snprintf parse formats, once per event line.
struct CivilDate {
    int64_t year;
    unsigned month, day;
};

CivilDate civil_from_days(int64_t z) {
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const auto doe = static_cast<unsigned>(z - era * 146097);                    // [0, 146096]
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;  // [0, 399]
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);                // [0, 365]
    const unsigned mp = (5 * doy + 2) / 153;                                     // [0, 11]
    const unsigned day = doy - (153 * mp + 2) / 5 + 1;
    const unsigned month = mp < 10 ? mp + 3 : mp - 9;
    return {static_cast<int64_t>(yoe) + era * 400 + (month <= 2), month, day};
}

void put_digits(char* at, unsigned value, int width) {
    for (int i = width - 1; i >= 0; --i) {
        at[i] = static_cast<char>('0' + value % 10);
        value /= 10;
    }
}

}  // namespace

void append_iso8601_utc_ms(std::string& out, std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const int64_t ms = duration_cast<milliseconds>(t.time_since_epoch()).count();
    // Floor division: a time before 1970 is the day before at a positive time of day.
    const int64_t days = (ms >= 0 ? ms : ms - 86399999) / 86400000;
    const auto of_day = static_cast<unsigned>(ms - days * 86400000);
    const CivilDate d = civil_from_days(days);
    // A system_clock time (nanoseconds in 64 bits) lies in 1677-2262: always four digits.
    //          0123456789012345678901234
    char s[] = "0000-00-00T00:00:00.000Z";
    put_digits(&s[0], static_cast<unsigned>(d.year), 4);
    put_digits(&s[5], d.month, 2);
    put_digits(&s[8], d.day, 2);
    put_digits(&s[11], of_day / 3600000, 2);
    put_digits(&s[14], of_day / 60000 % 60, 2);
    put_digits(&s[17], of_day / 1000 % 60, 2);
    put_digits(&s[20], of_day % 1000, 3);
    out.append(s, sizeof s - 1);
}

std::string iso8601_utc_ms(std::chrono::system_clock::time_point t) {
    std::string s;
    append_iso8601_utc_ms(s, t);
    return s;
}

std::string_view decision_path_name(DecisionPath p) {
    return p == DecisionPath::kernel ? "kernel" : "queue";
}

std::string event_json(const DecisionEvent& e) {
    const Connection& c = e.connection;
    std::string j;
    j.reserve(384);
    // Appended piece by piece: one string, no temporaries (the events file writes every one).
    const auto field = [&j](std::string_view name) {
        j += j.empty() ? "{\"" : ",\"";
        j += name;
        j += "\":";
    };
    const auto text = [&](std::string_view name, std::string_view value) {
        field(name);
        append_json_string(j, value);
    };
    const auto text_or_null = [&](std::string_view name, const std::optional<std::string>& v) {
        if (v) return text(name, *v);
        field(name);
        j += "null";
    };
    const auto number = [&](std::string_view name, std::optional<uint64_t> value) {
        field(name);
        if (!value) {
            j += "null";
            return;
        }
        char buf[24];
        const auto end = std::to_chars(buf, buf + sizeof buf, *value).ptr;
        j.append(buf, end);
    };
    field("time");
    j += '"';
    append_iso8601_utc_ms(j, e.time);  // digits and separators only: nothing to escape
    j += '"';
    text("action", action_name(e.action));
    text("reason", reason_name(e.reason));
    text_or_null("rule", e.rule);
    text("protocol", protocol_name(c.protocol));
    text("src_ip", c.src.to_string());
    number("src_port", c.src_port);
    text("dst_ip", c.dst.to_string());
    number("dst_port", c.dst_port);
    text_or_null("dst_host", c.dst_host);
    // A pid or uid nobody found is null, never 0: 0 would read as root or the kernel.
    const std::optional<uint32_t> uid = c.process ? std::optional(c.process->uid) : c.uid;
    number("uid", uid);
    number("pid", c.process && c.process->pid > 0 ? std::optional<uint64_t>(c.process->pid)
                                                  : std::nullopt);
    text("process_path", c.process ? std::string_view(c.process->path) : std::string_view());
    field("process_args");
    j += '[';
    if (c.process) {
        for (size_t i = 0; i < c.process->args.size(); ++i) {
            if (i) j += ',';
            append_json_string(j, c.process->args[i]);
        }
    }
    j += ']';
    text("method", method_name(e.method));
    number("attribution_us", e.attribution_us);
    text("path", decision_path_name(e.path));
    j += '}';
    return j;
}

}  // namespace tsnitch
