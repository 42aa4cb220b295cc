#include "core/control/control_codec.h"

#include <array>
#include <limits>
#include <type_traits>

#include "core/json_value.h"

namespace tsnitch {

namespace {

// ---- bounds of what a decoded message may hold ----

constexpr size_t kShortText = 4096;            // names, paths, hosts, addresses
constexpr size_t kLongText = size_t{1} << 20;  // log lines, rule data, arguments
constexpr uint64_t kMaxPid = 4194304;          // PID_MAX_LIMIT
constexpr size_t kMaxArgs = 4096;
constexpr size_t kMaxParents = 256;
constexpr size_t kMaxEnv = 4096;
constexpr size_t kMaxOperatorList = 256;
constexpr size_t kMaxOperatorDepth = 6;
constexpr size_t kMaxRecords = size_t{1} << 20;  // rules, prompts, events, processes, sockets
constexpr size_t kMaxQueues = 1024;
constexpr uint64_t kMaxIntervalMs = 3600 * 1000;
constexpr uint64_t kMinIntervalMs = 100;

constexpr JsonLimits kClientLimits{24, size_t{1} << 16};
constexpr JsonLimits kDaemonLimits{32, size_t{1} << 23};

// ---- enum names ----

std::string_view method_wire(Method m) {
    return m == Method::none ? "none" : method_name(m);
}
std::string_view family_wire(Family f) {
    return f == Family::v4 ? "ipv4" : "ipv6";
}

template <class E, size_t N>
std::optional<E> enum_of(std::string_view name, const std::array<E, N>& all,
                         std::string_view (*name_of)(E)) {
    for (E e : all)
        if (name_of(e) == name) return e;
    return std::nullopt;
}

template <class E, size_t N>
std::string names_of(const std::array<E, N>& all, std::string_view (*name_of)(E)) {
    std::string s;
    for (E e : all) {
        if (!s.empty()) s += '|';
        s += name_of(e);
    }
    return s;
}

constexpr std::array kActions{Action::allow, Action::deny, Action::reject};
constexpr std::array kReasons{Reason::rule, Reason::prompt, Reason::timeout, Reason::default_action,
                              Reason::unknown_process};
constexpr std::array kMethods{Method::ebpf, Method::diag, Method::proc, Method::none};
constexpr std::array kProtocols{Protocol::tcp,  Protocol::udp,  Protocol::udplite,
                                Protocol::sctp, Protocol::icmp, Protocol::icmp6};
constexpr std::array kLevels{LogLevel::debug, LogLevel::info, LogLevel::warning, LogLevel::error};
constexpr std::array kFamilies{Family::v4, Family::v6};
constexpr std::array kOperatorTypes{OperatorType::simple,  OperatorType::regexp,
                                    OperatorType::network, OperatorType::list,
                                    OperatorType::lists,   OperatorType::range};

// ---- writing ----

// One JSON object being written: members in call order.
class ObjectWriter {
  public:
    explicit ObjectWriter(std::string& out) : out_(out) { out_ += '{'; }
    ~ObjectWriter() { out_ += '}'; }
    ObjectWriter(const ObjectWriter&) = delete;
    ObjectWriter& operator=(const ObjectWriter&) = delete;

    // The key; the caller writes the value into out() next.
    std::string& key(std::string_view k) {
        if (!first_) out_ += ',';
        first_ = false;
        write_json_string(out_, k);
        out_ += ':';
        return out_;
    }
    void str(std::string_view k, std::string_view v) { write_json_string(key(k), v); }
    void num(std::string_view k, uint64_t v) { key(k) += std::to_string(v); }
    void inum(std::string_view k, int64_t v) { key(k) += std::to_string(v); }
    void boolean(std::string_view k, bool v) { key(k) += v ? "true" : "false"; }
    void null(std::string_view k) { key(k) += "null"; }
    void opt_str(std::string_view k, const std::optional<std::string>& v) {
        if (v)
            str(k, *v);
        else
            null(k);
    }

  private:
    std::string& out_;
    bool first_ = true;
};

template <class T, class F>
void write_list(std::string& out, const std::vector<T>& items, F write_item) {
    out += '[';
    for (size_t i = 0; i < items.size(); ++i) {
        if (i) out += ',';
        write_item(out, items[i]);
    }
    out += ']';
}

void write_time(std::string& out, std::chrono::system_clock::time_point t) {
    write_json_string(out, rfc3339_utc(t));
}

// The address with a numeric zone: interface names differ between the daemon's machine and the
// client's.
std::string address_wire(const IpAddress& a) {
    if (a.scope_id() == 0) return a.to_string();
    std::array<uint8_t, 16> b{};
    std::copy(a.bytes().begin(), a.bytes().end(), b.begin());
    return IpAddress::v6_bytes(b).to_string() + "%" + std::to_string(a.scope_id());
}

void write_process(std::string& out, const ProcessInfo& p) {
    ObjectWriter o(out);
    o.inum("pid", p.pid);
    o.inum("ppid", p.ppid);
    o.num("uid", p.uid);
    o.str("user", p.user);
    o.str("comm", p.comm);
    o.str("path", p.path);
    write_list(o.key("args"), p.args,
               [](std::string& s, const std::string& a) { write_json_string(s, a); });
    o.str("cwd", p.cwd);
    o.num("start_time", p.start_time);
    write_list(o.key("parents"), p.parents, [](std::string& s, const ParentProcess& pp) {
        ObjectWriter po(s);
        po.inum("pid", pp.pid);
        po.str("name", pp.name);
        po.str("path", pp.path);
    });
    write_list(o.key("env"), p.env,
               [](std::string& s, const std::pair<std::string, std::string>& e) {
                   s += '[';
                   write_json_string(s, e.first);
                   s += ',';
                   write_json_string(s, e.second);
                   s += ']';
               });
}

void write_connection(std::string& out, const Connection& c) {
    ObjectWriter o(out);
    o.str("protocol", protocol_name(c.protocol));
    o.str("src_ip", address_wire(c.src));
    o.num("src_port", c.src_port);
    o.str("dst_ip", address_wire(c.dst));
    o.num("dst_port", c.dst_port);
    if (c.uid)
        o.num("uid", *c.uid);
    else
        o.null("uid");
    o.opt_str("dst_host", c.dst_host);
    o.str("iface_in", c.iface_in);
    o.str("iface_out", c.iface_out);
    if (c.process)
        write_process(o.key("process"), *c.process);
    else
        o.null("process");
}

void write_decision(std::string& out, const DecisionEvent& e) {
    ObjectWriter o(out);
    write_time(o.key("time"), e.time);
    o.str("action", action_name(e.action));
    o.str("reason", reason_name(e.reason));
    o.opt_str("rule", e.rule);
    o.str("method", method_wire(e.method));
    o.num("attribution_us", e.attribution_us);
    write_connection(o.key("connection"), e.connection);
}

void write_operator(std::string& out, const RuleOperator& op) {
    ObjectWriter o(out);
    o.str("type", operator_type_name(op.type));
    o.str("operand", op.operand);
    o.boolean("sensitive", op.sensitive);
    o.str("data", op.data);
    write_list(o.key("list"), op.list, write_operator);
}

void write_rule(std::string& out, const Rule& r) {
    ObjectWriter o(out);
    o.str("name", r.name);
    o.str("description", r.description);
    o.boolean("enabled", r.enabled);
    o.boolean("precedence", r.precedence);
    o.boolean("nolog", r.nolog);
    o.str("action", action_name(r.action));
    o.str("duration", r.duration.to_string());
    write_operator(o.key("operator"), r.op);
    o.str("created", r.created);
    o.str("updated", r.updated);
}

void write_rule_record(std::string& out, const RuleRecord& r) {
    ObjectWriter o(out);
    write_rule(o.key("rule"), r.rule);
    o.num("hits", r.hits);
    if (r.expires)
        write_time(o.key("expires"), *r.expires);
    else
        o.null("expires");
}

void write_prompt(std::string& out, const PromptRecord& p) {
    ObjectWriter o(out);
    o.num("id", p.id);
    write_connection(o.key("connection"), p.connection);
    o.str("method", method_wire(p.method));
    write_time(o.key("opened"), p.opened);
    if (p.remaining)
        o.num("remaining_ms", static_cast<uint64_t>(std::max<int64_t>(0, p.remaining->count())));
    else
        o.null("remaining_ms");
    o.str("default_action", action_name(p.default_action));
    o.num("joined", p.joined);
}

void write_status(std::string& out, const StatusRecord& s) {
    ObjectWriter o(out);
    o.boolean("intercepting", s.intercepting);
    write_list(o.key("queues"), s.queues,
               [](std::string& q, uint16_t n) { q += std::to_string(n); });
    o.str("method", method_wire(s.method));
    o.str("fallback_notice", s.fallback_notice);
    o.str("firewall", s.firewall);
    o.boolean("kernel_path", s.kernel_path);
    o.num("rule_count", s.rule_count);
    o.num("broken_rule_files", s.broken_rule_files);
    o.num("prompts_open", s.prompts_open);
    o.num("clients", s.clients);
    o.num("allowed", s.allowed);
    o.num("denied", s.denied);
    o.num("rejected", s.rejected);
    o.num("queue_drops", s.queue_drops);
    o.num("over_limit", s.over_limit);
}

void write_log(std::string& out, const LogRecord& l) {
    ObjectWriter o(out);
    write_time(o.key("time"), l.time);
    o.str("level", log_level_name(l.level));
    o.str("text", l.text);
}

void write_review(std::string& out, const ReviewRecord& r) {
    ObjectWriter o(out);
    o.num("id", r.id);
    write_decision(o.key("event"), r.event);
}

void write_inet(std::string& out, const InetSocket& s) {
    ObjectWriter o(out);
    o.str("protocol", protocol_name(s.protocol));
    o.str("family", family_wire(s.family));
    o.num("state", s.state);
    o.str("src_ip", address_wire(s.src));
    o.num("src_port", s.src_port);
    o.str("dst_ip", address_wire(s.dst));
    o.num("dst_port", s.dst_port);
    o.num("ifindex", s.ifindex);
    o.num("uid", s.uid);
    o.num("inode", s.inode);
    o.num("cookie", s.cookie);
    o.num("rqueue", s.rqueue);
    o.num("wqueue", s.wqueue);
    o.boolean("v6only", s.v6only);
    o.num("bytes_sent", s.bytes_sent);
    o.num("bytes_received", s.bytes_received);
}

void write_unix(std::string& out, const UnixSocket& s) {
    ObjectWriter o(out);
    o.num("type", s.type);
    o.num("state", s.state);
    o.num("inode", s.inode);
    o.num("peer_inode", s.peer_inode);
    o.num("cookie", s.cookie);
    o.str("path", s.path);
}

void write_socket_row(std::string& out, const SocketRow& r) {
    ObjectWriter o(out);
    o.inum("fd", r.fd);
    o.num("inode", r.inode);
    if (r.inet)
        write_inet(o.key("inet"), *r.inet);
    else
        o.null("inet");
    if (r.unix_socket)
        write_unix(o.key("unix"), *r.unix_socket);
    else
        o.null("unix");
}

void write_summary(std::string& out, const ProcessSummary& p) {
    ObjectWriter o(out);
    o.inum("pid", p.pid);
    o.num("uid", p.uid);
    o.str("user", p.user);
    o.str("comm", p.comm);
    o.str("exe", p.exe);
    o.str("cmdline", p.cmdline);
    o.num("tcp_established", p.tcp_established);
    o.num("tcp_listen", p.tcp_listen);
    o.num("tcp_other", p.tcp_other);
    o.num("udp", p.udp);
    o.num("unix", p.unix_sockets);
    o.num("bytes_sent", p.bytes_sent);
    o.num("bytes_received", p.bytes_received);
}

void write_table(std::string& out, const SocketTableSnapshot& t) {
    ObjectWriter o(out);
    write_time(o.key("taken"), t.taken);
    write_list(o.key("processes"), t.processes, write_summary);
    o.num("sockets", t.sockets);
    if (t.focus_pid)
        o.inum("focus_pid", *t.focus_pid);
    else
        o.null("focus_pid");
    if (t.focus) {
        ObjectWriter f(o.key("focus"));
        f.inum("pid", t.focus->pid);
        f.str("comm", t.focus->comm);
        f.str("exe", t.focus->exe);
        write_list(f.key("sockets"), t.focus->sockets, write_socket_row);
    } else {
        o.null("focus");
    }
    write_list(o.key("focus_fds"), t.focus_fds, [](std::string& s, const FdLink& l) {
        ObjectWriter lo(s);
        lo.inum("fd", l.fd);
        lo.str("target", l.target);
    });
    o.str("focus_error", t.focus_error);
    o.num("cpu_us", static_cast<uint64_t>(std::max<int64_t>(0, t.cpu.count())));
}

struct EventWriter {
    std::string& out;
    ObjectWriter& o;

    void operator()(const Snapshot& s) {
        o.str("type", "snapshot");
        write_status(o.key("status"), s.status);
        write_list(o.key("rules"), s.rules, write_rule_record);
        write_list(o.key("prompts"), s.prompts, write_prompt);
        write_list(o.key("recent"), s.recent, write_decision);
        write_list(o.key("log"), s.log, write_log);
        write_list(o.key("review"), s.review, write_review);
    }
    void operator()(const DecisionMade& d) {
        o.str("type", "decision");
        write_decision(o.key("event"), d.event);
    }
    void operator()(const PromptOpened& p) {
        o.str("type", "prompt_opened");
        write_prompt(o.key("prompt"), p.prompt);
    }
    void operator()(const PromptJoined& p) {
        o.str("type", "prompt_joined");
        o.num("id", p.id);
        o.num("joined", p.joined);
    }
    void operator()(const PromptClosed& p) {
        o.str("type", "prompt_closed");
        o.num("id", p.id);
        o.str("action", action_name(p.action));
        o.str("reason", reason_name(p.reason));
        o.opt_str("rule", p.rule);
    }
    void operator()(const RulesChanged& r) {
        o.str("type", "rules_changed");
        write_list(o.key("rules"), r.rules, write_rule_record);
    }
    void operator()(const StatusChanged& s) {
        o.str("type", "status");
        write_status(o.key("status"), s.status);
    }
    void operator()(const LogAppended& l) {
        o.str("type", "log");
        write_log(o.key("line"), l.line);
    }
    void operator()(const ReviewAdded& r) {
        o.str("type", "review_added");
        write_review(o.key("item"), r.item);
    }
    void operator()(const ReviewRemoved& r) {
        o.str("type", "review_removed");
        o.num("id", r.id);
    }
    void operator()(const SocketTableUpdate& u) {
        o.str("type", "sockets");
        write_table(o.key("table"), u.table ? *u.table : SocketTableSnapshot{});
        write_list(o.key("host_names"), u.host_names,
                   [](std::string& s, const std::pair<IpAddress, std::string>& h) {
                       s += '[';
                       write_json_string(s, address_wire(h.first));
                       s += ',';
                       write_json_string(s, h.second);
                       s += ']';
                   });
        o.str("error", u.error);
    }
    void operator()(const CommandResult& r) {
        o.str("type", "result");
        o.num("request", r.request);
        o.str("error", r.error);
    }
    void operator()(const ProcessDetailsReply& r) {
        o.str("type", "process_details");
        o.num("request", r.request);
        if (r.process)
            write_process(o.key("process"), *r.process);
        else
            o.null("process");
        o.str("error", r.error);
    }
    void operator()(const Stopping& s) {
        o.str("type", "stopping");
        o.str("reason", s.reason);
    }
};

struct CommandWriter {
    ObjectWriter& o;

    void operator()(const AnswerPrompt& a) {
        o.str("type", "answer_prompt");
        o.num("prompt_id", a.prompt_id);
        o.str("action", action_name(a.action));
        o.str("duration", a.duration.to_string());
        if (a.rule)
            write_rule(o.key("rule"), *a.rule);
        else
            o.null("rule");
    }
    void operator()(const AddRule& a) {
        o.str("type", "add_rule");
        write_rule(o.key("rule"), a.rule);
    }
    void operator()(const ChangeRule& c) {
        o.str("type", "change_rule");
        o.str("name", c.name);
        o.str("action", action_name(c.action));
        o.str("duration", c.duration.to_string());
    }
    void operator()(const EnableRule& e) {
        o.str("type", "enable_rule");
        o.str("name", e.name);
        o.boolean("enabled", e.enabled);
    }
    void operator()(const DeleteRule& d) {
        o.str("type", "delete_rule");
        o.str("name", d.name);
    }
    void operator()(const DismissReview& d) {
        o.str("type", "dismiss_review");
        o.num("id", d.id);
    }
    void operator()(const SubscribeSockets& s) {
        o.str("type", "subscribe_sockets");
        o.boolean("on", s.on);
        o.num("interval_ms", static_cast<uint64_t>(std::max<int64_t>(0, s.interval.count())));
        if (s.focus_pid)
            o.inum("focus_pid", *s.focus_pid);
        else
            o.null("focus_pid");
        o.boolean("all_fds", s.all_fds);
    }
    void operator()(const CloseSocket& c) {
        o.str("type", "close_socket");
        write_inet(o.key("socket"), c.socket);
    }
    void operator()(const AskProcessDetails& a) {
        o.str("type", "ask_process_details");
        o.inum("pid", a.pid);
    }
};

// ---- reading ----

// Thrown inside this file only, caught by the decode_* entry points, so that each field reads in
// one line instead of a check after every call.
struct DecodeError {
    std::string message;
};

[[noreturn]] void bad(const std::string& path, const std::string& what) {
    throw DecodeError{path + ": " + what};
}

std::string quoted_excerpt(std::string_view s) {
    std::string out;
    write_json_string(out, s.substr(0, 64));
    if (s.size() > 64) out += "...";
    return out;
}

// An object being read: each member is read once by name; finish() rejects any member left over
// (a misspelt key is an error, not a silently missing field).
class ObjectReader {
  public:
    ObjectReader(const JsonValue& v, std::string path) : v_(v), path_(std::move(path)) {
        if (v.kind() != JsonValue::Kind::object)
            bad(path_,
                std::string("expected an object, got ") + std::string(json_kind_name(v.kind())));
        used_.assign(v.members().size(), false);
    }

    std::string path(std::string_view key) const {
        return path_.empty() ? std::string(key) : path_ + "." + std::string(key);
    }

    const JsonValue& get(std::string_view key) {
        const auto& m = v_.members();
        for (size_t i = 0; i < m.size(); ++i) {
            if (m[i].first == key) {
                used_[i] = true;
                return m[i].second;
            }
        }
        bad(path(key), "missing");
    }
    bool is_null(std::string_view key) { return get(key).is_null(); }

    std::string str(std::string_view key, size_t max_len) {
        return read_string(get(key), path(key), max_len);
    }
    std::optional<std::string> opt_str(std::string_view key, size_t max_len) {
        const JsonValue& v = get(key);
        if (v.is_null()) return std::nullopt;
        return read_string(v, path(key), max_len);
    }
    uint64_t u64(std::string_view key, uint64_t max = std::numeric_limits<uint64_t>::max(),
                 uint64_t min = 0) {
        return read_u64(get(key), path(key), min, max);
    }
    int64_t i64(std::string_view key, int64_t min, int64_t max) {
        return read_i64(get(key), path(key), min, max);
    }
    bool boolean(std::string_view key) {
        const JsonValue& v = get(key);
        if (v.kind() != JsonValue::Kind::boolean)
            bad(path(key), "expected true or false, got " + std::string(json_kind_name(v.kind())));
        return v.as_bool();
    }
    std::chrono::system_clock::time_point time(std::string_view key) {
        const std::string text = str(key, 64);
        auto t = parse_rfc3339(text);
        if (!t) bad(path(key), "expected an RFC 3339 time, got " + quoted_excerpt(text));
        return *t;
    }
    template <class E, size_t N>
    E enumerated(std::string_view key, const std::array<E, N>& all,
                 std::string_view (*name_of)(E)) {
        const std::string text = str(key, 64);
        auto e = enum_of(text, all, name_of);
        if (!e)
            bad(path(key),
                "expected one of " + names_of(all, name_of) + ", got " + quoted_excerpt(text));
        return *e;
    }
    IpAddress address(std::string_view key) {
        const std::string text = str(key, 64);
        auto a = IpAddress::parse(text);
        if (!a) bad(path(key), "expected an IP address, got " + quoted_excerpt(text));
        return *a;
    }
    RuleDuration duration(std::string_view key) {
        const std::string text = str(key, 64);
        auto d = RuleDuration::parse(text);
        if (!d)
            bad(path(key), "expected once, until restart, always or a duration like 5m, got " +
                               quoted_excerpt(text));
        return *d;
    }
    // A list of at most `max_items`, each read by `item(value, path)`.
    template <class T, class F>
    std::vector<T> list(std::string_view key, size_t max_items, F item) {
        const JsonValue& v = get(key);
        const std::string p = path(key);
        if (v.kind() != JsonValue::Kind::array)
            bad(p, "expected an array, got " + std::string(json_kind_name(v.kind())));
        if (v.items().size() > max_items)
            bad(p, "more than " + std::to_string(max_items) + " items");
        std::vector<T> out;
        out.reserve(v.items().size());
        for (size_t i = 0; i < v.items().size(); ++i)
            out.push_back(item(v.items()[i], p + "[" + std::to_string(i) + "]"));
        return out;
    }

    void finish() const {
        const auto& m = v_.members();
        for (size_t i = 0; i < m.size(); ++i)
            if (!used_[i]) bad(path(m[i].first), "unknown key");
    }

    static std::string read_string(const JsonValue& v, const std::string& p, size_t max_len) {
        if (v.kind() != JsonValue::Kind::string)
            bad(p, "expected a string, got " + std::string(json_kind_name(v.kind())));
        if (v.as_string().size() > max_len)
            bad(p, "longer than " + std::to_string(max_len) + " bytes");
        return v.as_string();
    }
    static uint64_t read_u64(const JsonValue& v, const std::string& p, uint64_t min, uint64_t max) {
        auto n = v.as_u64();
        if (!n || *n < min || *n > max)
            bad(p,
                "expected an integer " + std::to_string(min) + ".." + std::to_string(max) +
                    ", got " +
                    (v.kind() == JsonValue::Kind::number ? v.number_text().substr(0, 32)
                                                         : std::string(json_kind_name(v.kind()))));
        return *n;
    }
    static int64_t read_i64(const JsonValue& v, const std::string& p, int64_t min, int64_t max) {
        auto n = v.as_i64();
        if (!n || *n < min || *n > max)
            bad(p,
                "expected an integer " + std::to_string(min) + ".." + std::to_string(max) +
                    ", got " +
                    (v.kind() == JsonValue::Kind::number ? v.number_text().substr(0, 32)
                                                         : std::string(json_kind_name(v.kind()))));
        return *n;
    }

  private:
    const JsonValue& v_;
    std::string path_;
    std::vector<bool> used_;
};

template <class T>
T narrow(uint64_t v) {
    return static_cast<T>(v);
}

int read_pid(ObjectReader& o, std::string_view key, uint64_t min = 0) {
    return narrow<int>(o.u64(key, kMaxPid, min));
}

std::pair<std::string, std::string> read_string_pair(const JsonValue& v, const std::string& p,
                                                     size_t max_first, size_t max_second) {
    if (v.kind() != JsonValue::Kind::array || v.items().size() != 2)
        bad(p, "expected an array of two strings");
    return {ObjectReader::read_string(v.items()[0], p + "[0]", max_first),
            ObjectReader::read_string(v.items()[1], p + "[1]", max_second)};
}

ProcessInfo read_process(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    ProcessInfo p;
    p.pid = read_pid(o, "pid");
    p.ppid = read_pid(o, "ppid");
    p.uid = narrow<uint32_t>(o.u64("uid", UINT32_MAX));
    p.user = o.str("user", kShortText);
    p.comm = o.str("comm", kShortText);
    p.path = o.str("path", kShortText);
    p.args = o.list<std::string>("args", kMaxArgs, [](const JsonValue& a, const std::string& ap) {
        return ObjectReader::read_string(a, ap, kLongText);
    });
    p.cwd = o.str("cwd", kShortText);
    p.start_time = o.u64("start_time");
    p.parents = o.list<ParentProcess>("parents", kMaxParents,
                                      [](const JsonValue& pv, const std::string& pp) {
                                          ObjectReader po(pv, pp);
                                          ParentProcess parent;
                                          parent.pid = read_pid(po, "pid");
                                          parent.name = po.str("name", kShortText);
                                          parent.path = po.str("path", kShortText);
                                          po.finish();
                                          return parent;
                                      });
    p.env = o.list<std::pair<std::string, std::string>>(
        "env", kMaxEnv, [](const JsonValue& ev, const std::string& ep) {
            return read_string_pair(ev, ep, kShortText, kLongText);
        });
    o.finish();
    return p;
}

Connection read_connection(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    Connection c;
    c.protocol = o.enumerated("protocol", kProtocols, protocol_name);
    c.src = o.address("src_ip");
    c.src_port = narrow<uint16_t>(o.u64("src_port", 65535));
    c.dst = o.address("dst_ip");
    c.dst_port = narrow<uint16_t>(o.u64("dst_port", 65535));
    if (!o.is_null("uid")) c.uid = narrow<uint32_t>(o.u64("uid", UINT32_MAX));
    c.dst_host = o.opt_str("dst_host", kShortText);
    c.iface_in = o.str("iface_in", 64);
    c.iface_out = o.str("iface_out", 64);
    if (!o.is_null("process"))
        c.process =
            std::make_shared<const ProcessInfo>(read_process(o.get("process"), o.path("process")));
    o.finish();
    return c;
}

DecisionEvent read_decision(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    DecisionEvent e;
    e.time = o.time("time");
    e.action = o.enumerated("action", kActions, action_name);
    e.reason = o.enumerated("reason", kReasons, reason_name);
    e.rule = o.opt_str("rule", kShortText);
    e.method = o.enumerated("method", kMethods, method_wire);
    e.attribution_us = o.u64("attribution_us");
    e.connection = read_connection(o.get("connection"), o.path("connection"));
    o.finish();
    return e;
}

RuleOperator read_operator(const JsonValue& v, const std::string& path, size_t depth) {
    if (depth > kMaxOperatorDepth)
        bad(path, "operators nested deeper than " + std::to_string(kMaxOperatorDepth));
    ObjectReader o(v, path);
    RuleOperator op;
    op.type = o.enumerated("type", kOperatorTypes, operator_type_name);
    op.operand = o.str("operand", kShortText);
    op.sensitive = o.boolean("sensitive");
    op.data = o.str("data", kLongText);
    op.list = o.list<RuleOperator>("list", kMaxOperatorList,
                                   [depth](const JsonValue& iv, const std::string& ip) {
                                       return read_operator(iv, ip, depth + 1);
                                   });
    o.finish();
    return op;
}

Rule read_rule(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    Rule r;
    r.name = o.str("name", kShortText);
    r.description = o.str("description", kLongText);
    r.enabled = o.boolean("enabled");
    r.precedence = o.boolean("precedence");
    r.nolog = o.boolean("nolog");
    r.action = o.enumerated("action", kActions, action_name);
    r.duration = o.duration("duration");
    r.op = read_operator(o.get("operator"), o.path("operator"), 1);
    r.created = o.str("created", 64);
    r.updated = o.str("updated", 64);
    o.finish();
    return r;
}

RuleRecord read_rule_record(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    RuleRecord r;
    r.rule = read_rule(o.get("rule"), o.path("rule"));
    r.hits = o.u64("hits");
    if (!o.is_null("expires")) r.expires = o.time("expires");
    o.finish();
    return r;
}

PromptRecord read_prompt(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    PromptRecord p;
    p.id = o.u64("id");
    p.connection = read_connection(o.get("connection"), o.path("connection"));
    p.method = o.enumerated("method", kMethods, method_wire);
    p.opened = o.time("opened");
    if (!o.is_null("remaining_ms"))
        p.remaining = std::chrono::milliseconds(narrow<int64_t>(o.u64("remaining_ms", INT64_MAX)));
    p.default_action = o.enumerated("default_action", kActions, action_name);
    p.joined = narrow<unsigned>(o.u64("joined", UINT32_MAX));
    o.finish();
    return p;
}

StatusRecord read_status(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    StatusRecord s;
    s.intercepting = o.boolean("intercepting");
    s.queues =
        o.list<uint16_t>("queues", kMaxQueues, [](const JsonValue& q, const std::string& qp) {
            return narrow<uint16_t>(ObjectReader::read_u64(q, qp, 0, 65535));
        });
    s.method = o.enumerated("method", kMethods, method_wire);
    s.fallback_notice = o.str("fallback_notice", kShortText);
    s.firewall = o.str("firewall", 64);
    s.kernel_path = o.boolean("kernel_path");
    s.rule_count = o.u64("rule_count", SIZE_MAX);
    s.broken_rule_files = o.u64("broken_rule_files", SIZE_MAX);
    s.prompts_open = o.u64("prompts_open", SIZE_MAX);
    s.clients = o.u64("clients", SIZE_MAX);
    s.allowed = o.u64("allowed");
    s.denied = o.u64("denied");
    s.rejected = o.u64("rejected");
    s.queue_drops = o.u64("queue_drops");
    s.over_limit = o.u64("over_limit");
    o.finish();
    return s;
}

LogRecord read_log(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    LogRecord l;
    l.time = o.time("time");
    l.level = o.enumerated("level", kLevels, log_level_name);
    l.text = o.str("text", kLongText);
    o.finish();
    return l;
}

ReviewRecord read_review(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    ReviewRecord r;
    r.id = o.u64("id");
    r.event = read_decision(o.get("event"), o.path("event"));
    o.finish();
    return r;
}

InetSocket read_inet(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    InetSocket s;
    s.protocol = o.enumerated("protocol", kProtocols, protocol_name);
    s.family = o.enumerated("family", kFamilies, family_wire);
    s.state = narrow<uint8_t>(o.u64("state", 255));
    s.src = o.address("src_ip");
    s.src_port = narrow<uint16_t>(o.u64("src_port", 65535));
    s.dst = o.address("dst_ip");
    s.dst_port = narrow<uint16_t>(o.u64("dst_port", 65535));
    s.ifindex = narrow<uint32_t>(o.u64("ifindex", UINT32_MAX));
    s.uid = narrow<uint32_t>(o.u64("uid", UINT32_MAX));
    s.inode = o.u64("inode");
    s.cookie = o.u64("cookie");
    s.rqueue = narrow<uint32_t>(o.u64("rqueue", UINT32_MAX));
    s.wqueue = narrow<uint32_t>(o.u64("wqueue", UINT32_MAX));
    s.v6only = o.boolean("v6only");
    s.bytes_sent = o.u64("bytes_sent");
    s.bytes_received = o.u64("bytes_received");
    o.finish();
    if (s.src.family() != s.family || s.dst.family() != s.family)
        bad(path, "src_ip and dst_ip must be of the socket's family");
    return s;
}

UnixSocket read_unix(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    UnixSocket s;
    s.type = narrow<uint8_t>(o.u64("type", 255));
    s.state = narrow<uint8_t>(o.u64("state", 255));
    s.inode = o.u64("inode");
    s.peer_inode = o.u64("peer_inode");
    s.cookie = o.u64("cookie");
    s.path = o.str("path", kShortText);
    o.finish();
    return s;
}

SocketRow read_socket_row(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    SocketRow r;
    r.fd = narrow<int>(o.u64("fd", INT32_MAX));
    r.inode = o.u64("inode");
    if (!o.is_null("inet")) r.inet = read_inet(o.get("inet"), o.path("inet"));
    if (!o.is_null("unix")) r.unix_socket = read_unix(o.get("unix"), o.path("unix"));
    o.finish();
    return r;
}

ProcessSummary read_summary(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    ProcessSummary p;
    p.pid = read_pid(o, "pid");
    p.uid = narrow<uint32_t>(o.u64("uid", UINT32_MAX));
    p.user = o.str("user", kShortText);
    p.comm = o.str("comm", kShortText);
    p.exe = o.str("exe", kShortText);
    p.cmdline = o.str("cmdline", kShortText);
    p.tcp_established = o.u64("tcp_established", SIZE_MAX);
    p.tcp_listen = o.u64("tcp_listen", SIZE_MAX);
    p.tcp_other = o.u64("tcp_other", SIZE_MAX);
    p.udp = o.u64("udp", SIZE_MAX);
    p.unix_sockets = o.u64("unix", SIZE_MAX);
    p.bytes_sent = o.u64("bytes_sent");
    p.bytes_received = o.u64("bytes_received");
    o.finish();
    return p;
}

SocketTableSnapshot read_table(const JsonValue& v, const std::string& path) {
    ObjectReader o(v, path);
    SocketTableSnapshot t;
    t.taken = o.time("taken");
    t.processes = o.list<ProcessSummary>("processes", kMaxRecords, read_summary);
    t.sockets = o.u64("sockets", SIZE_MAX);
    if (!o.is_null("focus_pid")) t.focus_pid = read_pid(o, "focus_pid");
    if (!o.is_null("focus")) {
        ObjectReader f(o.get("focus"), o.path("focus"));
        ProcessSockets ps;
        ps.pid = read_pid(f, "pid");
        ps.comm = f.str("comm", kShortText);
        ps.exe = f.str("exe", kShortText);
        ps.sockets = f.list<SocketRow>("sockets", kMaxRecords, read_socket_row);
        f.finish();
        t.focus = std::move(ps);
    }
    t.focus_fds =
        o.list<FdLink>("focus_fds", kMaxRecords, [](const JsonValue& lv, const std::string& lp) {
            ObjectReader lo(lv, lp);
            FdLink l;
            l.fd = narrow<int>(lo.u64("fd", INT32_MAX));
            l.target = lo.str("target", kShortText);
            lo.finish();
            return l;
        });
    t.focus_error = o.str("focus_error", kShortText);
    t.cpu = std::chrono::microseconds(narrow<int64_t>(o.u64("cpu_us", INT64_MAX)));
    o.finish();
    return t;
}

DaemonEvent read_event(ObjectReader& o, const std::string& type) {
    if (type == "snapshot") {
        Snapshot s;
        s.status = read_status(o.get("status"), "status");
        s.rules = o.list<RuleRecord>("rules", kMaxRecords, read_rule_record);
        s.prompts = o.list<PromptRecord>("prompts", kMaxRecords, read_prompt);
        s.recent = o.list<DecisionEvent>("recent", kMaxRecords, read_decision);
        s.log = o.list<LogRecord>("log", kMaxRecords, read_log);
        s.review = o.list<ReviewRecord>("review", kMaxRecords, read_review);
        return s;
    }
    if (type == "decision") return DecisionMade{read_decision(o.get("event"), "event")};
    if (type == "prompt_opened") return PromptOpened{read_prompt(o.get("prompt"), "prompt")};
    if (type == "prompt_joined") {
        PromptJoined j;
        j.id = o.u64("id");
        j.joined = narrow<unsigned>(o.u64("joined", UINT32_MAX));
        return j;
    }
    if (type == "prompt_closed") {
        PromptClosed c;
        c.id = o.u64("id");
        c.action = o.enumerated("action", kActions, action_name);
        c.reason = o.enumerated("reason", kReasons, reason_name);
        c.rule = o.opt_str("rule", kShortText);
        return c;
    }
    if (type == "rules_changed")
        return RulesChanged{o.list<RuleRecord>("rules", kMaxRecords, read_rule_record)};
    if (type == "status") return StatusChanged{read_status(o.get("status"), "status")};
    if (type == "log") return LogAppended{read_log(o.get("line"), "line")};
    if (type == "review_added") return ReviewAdded{read_review(o.get("item"), "item")};
    if (type == "review_removed") return ReviewRemoved{o.u64("id")};
    if (type == "sockets") {
        SocketTableUpdate u;
        u.table = std::make_shared<const SocketTableSnapshot>(read_table(o.get("table"), "table"));
        u.host_names = o.list<std::pair<IpAddress, std::string>>(
            "host_names", kMaxRecords, [](const JsonValue& hv, const std::string& hp) {
                auto [ip, name] = read_string_pair(hv, hp, 64, kShortText);
                auto a = IpAddress::parse(ip);
                if (!a) bad(hp + "[0]", "expected an IP address, got " + quoted_excerpt(ip));
                return std::pair<IpAddress, std::string>(*a, std::move(name));
            });
        u.error = o.str("error", kShortText);
        return u;
    }
    if (type == "result") {
        CommandResult r;
        r.request = o.u64("request");
        r.error = o.str("error", kLongText);
        return r;
    }
    if (type == "process_details") {
        ProcessDetailsReply r;
        r.request = o.u64("request");
        if (!o.is_null("process"))
            r.process =
                std::make_shared<const ProcessInfo>(read_process(o.get("process"), "process"));
        r.error = o.str("error", kShortText);
        return r;
    }
    if (type == "stopping") return Stopping{o.str("reason", kShortText)};
    bad("type", "unknown message type " + quoted_excerpt(type));
}

decltype(DaemonCommand::body) read_command_body(ObjectReader& o, const std::string& type) {
    if (type == "answer_prompt") {
        AnswerPrompt a;
        a.prompt_id = o.u64("prompt_id");
        a.action = o.enumerated("action", kActions, action_name);
        a.duration = o.duration("duration");
        if (!o.is_null("rule")) a.rule = read_rule(o.get("rule"), "rule");
        if (a.rule.has_value() == (a.duration.kind == RuleDuration::Kind::once))
            bad("rule", a.rule ? "must be null when the duration is once"
                               : "missing: a duration other than once stores a rule");
        return a;
    }
    if (type == "add_rule") return AddRule{read_rule(o.get("rule"), "rule")};
    if (type == "change_rule") {
        ChangeRule c;
        c.name = o.str("name", kShortText);
        c.action = o.enumerated("action", kActions, action_name);
        c.duration = o.duration("duration");
        return c;
    }
    if (type == "enable_rule") {
        EnableRule e;
        e.name = o.str("name", kShortText);
        e.enabled = o.boolean("enabled");
        return e;
    }
    if (type == "delete_rule") return DeleteRule{o.str("name", kShortText)};
    if (type == "dismiss_review") return DismissReview{o.u64("id")};
    if (type == "subscribe_sockets") {
        SubscribeSockets s;
        s.on = o.boolean("on");
        s.interval =
            std::chrono::milliseconds(o.u64("interval_ms", kMaxIntervalMs, kMinIntervalMs));
        if (!o.is_null("focus_pid")) s.focus_pid = read_pid(o, "focus_pid", 1);
        s.all_fds = o.boolean("all_fds");
        return s;
    }
    if (type == "close_socket") return CloseSocket{read_inet(o.get("socket"), "socket")};
    if (type == "ask_process_details") return AskProcessDetails{read_pid(o, "pid", 1)};
    bad("type", "unknown command type " + quoted_excerpt(type));
}

Result<JsonValue> parse_line(std::string_view line, size_t max_line, const JsonLimits& limits) {
    if (line.size() > max_line)
        return make_error("message longer than " + std::to_string(max_line) + " bytes");
    auto v = parse_json(line, limits);
    if (!v) return make_error("not JSON: " + v.error().message);
    return v;
}

}  // namespace

std::string encode_hello(const ControlHello& hello) {
    std::string out;
    {
        ObjectWriter o(out);
        o.str("hello", "tsnitch");
        o.num("version", hello.version);
        o.str("role", hello.role == ControlHello::Role::daemon ? "daemon" : "client");
        o.str("program", hello.program);
    }
    return out;
}

std::string encode_closing(const ControlClosing& closing) {
    std::string out;
    {
        ObjectWriter o(out);
        o.str("type", "closing");
        o.str("reason", closing.reason);
    }
    return out;
}

std::string encode_event(const DaemonEvent& event) {
    std::string out;
    {
        ObjectWriter o(out);
        std::visit(EventWriter{out, o}, event);
    }
    return out;
}

std::string encode_command(const DaemonCommand& command) {
    std::string out;
    {
        ObjectWriter o(out);
        o.num("request", command.request);
        std::visit(CommandWriter{o}, command.body);
    }
    return out;
}

Result<ControlHello> decode_hello(std::string_view line, ControlHello::Role role) {
    auto v = parse_line(line, kMaxClientLine, kClientLimits);
    if (!v) return v.error();
    try {
        // Not ObjectReader::finish(): a later version's hello may carry more keys.
        ObjectReader o(*v, "");
        if (o.str("hello", 64) != "tsnitch") bad("hello", "expected \"tsnitch\"");
        ControlHello h;
        h.version = narrow<unsigned>(o.u64("version", UINT32_MAX));
        const std::string r = o.str("role", 64);
        const std::string_view want = role == ControlHello::Role::daemon ? "daemon" : "client";
        if (r != want)
            bad("role", "expected \"" + std::string(want) + "\", got " + quoted_excerpt(r));
        h.role = role;
        const JsonValue* program = v->find("program");
        if (program) h.program = ObjectReader::read_string(*program, "program", kShortText);
        return h;
    } catch (const DecodeError& e) {
        return make_error(e.message);
    }
}

Result<DaemonLine> decode_daemon_line(std::string_view line) {
    auto v = parse_line(line, kMaxDaemonLine, kDaemonLimits);
    if (!v) return v.error();
    try {
        ObjectReader o(*v, "");
        const std::string type = o.str("type", 64);
        if (type == "closing") {
            ControlClosing c{o.str("reason", kShortText)};
            o.finish();
            return DaemonLine(std::move(c));
        }
        DaemonEvent e = read_event(o, type);
        o.finish();
        return DaemonLine(std::move(e));
    } catch (const DecodeError& e) {
        return make_error(e.message);
    }
}

Result<DaemonCommand> decode_command(std::string_view line) {
    auto v = parse_line(line, kMaxClientLine, kClientLimits);
    if (!v) return v.error();
    try {
        ObjectReader o(*v, "");
        DaemonCommand c;
        c.request = o.u64("request");
        c.body = read_command_body(o, o.str("type", 64));
        o.finish();
        return c;
    } catch (const DecodeError& e) {
        return make_error(e.message);
    }
}

std::string hello_mismatch(const ControlHello& hello) {
    if (hello.version == kControlProtocolVersion) return {};
    return "protocol version " + std::to_string(hello.version) +
           " is not spoken here (this tsnitch speaks " + std::to_string(kControlProtocolVersion) +
           ")";
}

}  // namespace tsnitch
