#include "tests/tui/demo/script.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "core/rules/rule.h"

namespace tsnitch::tui::demo {

namespace {

struct ScriptError {
    std::string message;
};

template <class T>
T get(const YAML::Node& n, const char* key, T fallback, const std::string& where) {
    const YAML::Node v = n[key];
    if (!v) return fallback;
    try {
        return v.as<T>();
    } catch (const YAML::Exception&) {
        throw ScriptError{where + "." + key + ": wrong type"};
    }
}

ProcessInfo parse_process(const YAML::Node& n, const std::string& where) {
    ProcessInfo p;
    p.pid = get<int>(n, "pid", 0, where);
    p.ppid = get<int>(n, "ppid", 0, where);
    p.uid = get<uint32_t>(n, "uid", 0, where);
    p.user = get<std::string>(n, "user", "", where);
    p.comm = get<std::string>(n, "comm", "", where);
    p.path = get<std::string>(n, "path", "", where);
    p.cwd = get<std::string>(n, "cwd", "", where);
    if (n["args"]) p.args = get<std::vector<std::string>>(n, "args", {}, where);
    if (const YAML::Node parents = n["parents"]) {
        for (size_t i = 0; i < parents.size(); ++i) {
            const std::string w = where + ".parents[" + std::to_string(i) + "]";
            p.parents.push_back({get<int>(parents[i], "pid", 0, w),
                                 get<std::string>(parents[i], "name", "", w),
                                 get<std::string>(parents[i], "path", "", w)});
        }
    }
    return p;
}

IpAddress parse_ip(const YAML::Node& n, const char* key, const char* fallback,
                   const std::string& where) {
    const std::string text = get<std::string>(n, key, fallback, where);
    const auto a = IpAddress::parse(text);
    if (!a) throw ScriptError{where + "." + key + ": bad address '" + text + "'"};
    return *a;
}

Connection parse_connection(const YAML::Node& n, const std::string& where) {
    Connection c;
    const std::string proto = get<std::string>(n, "protocol", "tcp", where);
    const auto p = protocol_from_name(proto);
    if (!p) throw ScriptError{where + ".protocol: unknown protocol '" + proto + "'"};
    c.protocol = *p;
    c.src = parse_ip(n, "src", "10.0.2.15", where);
    c.src_port = get<uint16_t>(n, "src_port", 40000, where);
    c.dst = parse_ip(n, "dst", "10.0.2.2", where);
    c.dst_port = get<uint16_t>(n, "dst_port", 443, where);
    const std::string host = get<std::string>(n, "host", "", where);
    if (!host.empty()) c.dst_host = host;
    if (n["process"]) {
        c.process =
            std::make_shared<const ProcessInfo>(parse_process(n["process"], where + ".process"));
        c.uid = c.process->uid;
    } else if (n["uid"]) {
        c.uid = get<uint32_t>(n, "uid", 0, where);
    }
    return c;
}

Action parse_action(const YAML::Node& n, const char* key, Action fallback,
                    const std::string& where) {
    const std::string text = get<std::string>(n, key, std::string(action_name(fallback)), where);
    const auto a = action_from_name(text);
    if (!a) throw ScriptError{where + "." + key + ": expected allow, deny or reject"};
    return *a;
}

Method parse_method(const YAML::Node& n, const std::string& where) {
    const std::string text = get<std::string>(n, "method", "ebpf", where);
    const auto m = method_from_name(text);
    if (!m) throw ScriptError{where + ".method: expected ebpf, diag, proc or none"};
    return *m;
}

RuleDuration parse_duration(const YAML::Node& n, const char* key, const std::string& where) {
    const std::string text = get<std::string>(n, key, "once", where);
    const auto d = RuleDuration::parse(text);
    if (!d) throw ScriptError{where + "." + key + ": bad duration '" + text + "'"};
    return *d;
}

Script parse(const YAML::Node& root, const std::string& origin) {
    Script s;
    s.status.intercepting = true;
    s.status.method = Method::ebpf;
    s.status.firewall = "iptables";
    s.status.queues = {0};
    if (const YAML::Node st = root["status"]) {
        const std::string w = origin + ": status";
        s.status.intercepting = get<bool>(st, "intercepting", true, w);
        const auto first = get<uint16_t>(st, "queue", 0, w);
        const auto count = get<unsigned>(st, "queues", 1, w);
        s.status.queues.clear();
        for (unsigned i = 0; i < count; ++i)
            s.status.queues.push_back(static_cast<uint16_t>(first + i));
        s.status.queue_drops = get<uint64_t>(st, "dropped", 0, w);
        s.status.method = parse_method(st, w);
        s.status.fallback_notice = get<std::string>(st, "fallback", "", w);
        s.status.firewall = get<std::string>(st, "firewall", "iptables", w);
        s.status.broken_rule_files = get<size_t>(st, "broken_rule_files", 0, w);
    }
    if (const YAML::Node d = root["defaults"]) {
        const std::string w = origin + ": defaults";
        s.default_action = parse_action(d, "action", Action::deny, w);
        s.default_duration = parse_duration(d, "duration", w);
        s.timeout_s = get<unsigned>(d, "timeout", 30, w);
    }
    if (const YAML::Node rules = root["rules"]) {
        for (size_t i = 0; i < rules.size(); ++i) {
            const std::string w = origin + ": rules[" + std::to_string(i) + "]";
            // An OpenSnitch rule (name, action, duration, enabled, operator); the daemon counts
            // its hits.
            auto rule = parse_rule(YAML::Dump(rules[i]), w);
            if (!rule) throw ScriptError{rule.error().message};
            s.rules.push_back(std::move(*rule));
        }
    }
    if (const YAML::Node steps = root["steps"]) {
        for (size_t i = 0; i < steps.size(); ++i) {
            const std::string w = origin + ": steps[" + std::to_string(i) + "]";
            Step step;
            step.at = std::chrono::milliseconds(
                static_cast<long long>(get<double>(steps[i], "at", 0.0, w) * 1000));
            // "prompt" (no rule decides it) and "event" (a rule does) are both a connection: the
            // daemon's rules decide which it is. An event's "action" and "rule" say what the
            // script expects and are not read.
            const char* kind = steps[i]["prompt"] ? "prompt" : "event";
            if (const YAML::Node c = steps[i][kind]) {
                const std::string wc = w + "." + kind;
                step.connection = parse_connection(c, wc);
                step.method = step.connection->process ? parse_method(c, wc) : Method::none;
            } else if (const YAML::Node l = steps[i]["log"]) {
                LogRecord line;
                const std::string level = get<std::string>(l, "level", "info", w + ".log");
                static const std::pair<const char*, LogLevel> levels[] = {
                    {"debug", LogLevel::debug},
                    {"info", LogLevel::info},
                    {"warning", LogLevel::warning},
                    {"error", LogLevel::error}};
                bool known = false;
                for (const auto& [name, value] : levels) {
                    if (level == name) line.level = value, known = true;
                }
                if (!known) {
                    throw ScriptError{w + ".log.level: expected debug, info, warning or error"};
                }
                line.text = get<std::string>(l, "text", "", w + ".log");
                step.log = std::move(line);
            } else {
                throw ScriptError{w + ": expected 'prompt', 'event' or 'log'"};
            }
            s.steps.push_back(std::move(step));
        }
    }
    std::stable_sort(s.steps.begin(), s.steps.end(),
                     [](const Step& a, const Step& b) { return a.at < b.at; });
    return s;
}

}  // namespace

Result<Script> parse_script(std::string_view text, std::string_view origin) {
    try {
        return parse(YAML::Load(std::string(text)), std::string(origin));
    } catch (const ScriptError& e) {
        return make_error(e.message);
    } catch (const YAML::Exception& e) {
        return make_error(std::string(origin) + ": " + e.what());
    }
}

std::string_view builtin_script() {
    return R"yaml(# The built-in demo: rules that already decide, then three programs that ask.
status: {intercepting: true, queue: 0, method: ebpf, firewall: iptables}
defaults: {action: deny, duration: once, timeout: 60}
rules:
  - name: 000-allow-dns-resolver
    action: allow
    duration: always
    operator: {type: list, operand: list, list: [
        {type: simple, operand: process.path, data: /usr/lib/systemd/systemd-resolved},
        {type: simple, operand: dest.port, data: "53"}]}
  - {name: allow-always-simple-apt-http, action: allow,
     operator: {type: simple, operand: process.path, data: /usr/lib/apt/methods/http}}
  - {name: deny-always-regexp-tracker.example, action: deny,
     operator: {type: regexp, operand: dest.host, data: '^(|.*\.)tracker\.example$'}}
steps:
  - at: 0.1
    log: {level: info, text: "loaded 3 rules from /etc/tsnitch/rules"}
  - at: 0.15
    log: {level: warning, text: "rules/broken.json: operator.data: bad regexp '(': missing )"}
  - at: 0.2
    event: {action: allow, rule: 000-allow-dns-resolver, protocol: udp, dst: 10.0.2.3, dst_port: 53,
            process: {pid: 311, comm: systemd-resolve, path: /usr/lib/systemd/systemd-resolved, user: systemd-resolve, uid: 990}}
  - at: 0.4
    event: {action: deny, rule: deny-always-regexp-tracker.example, host: ads.tracker.example, dst: 203.0.113.9, dst_port: 443,
            process: {pid: 2210, comm: firefox, path: /usr/lib/firefox/firefox, user: alice, uid: 1000}}
  - at: 0.6
    event: {action: allow, rule: allow-always-simple-apt-http, host: deb.debian.org, dst: 151.101.2.132, dst_port: 80,
            process: {pid: 5120, comm: http, path: /usr/lib/apt/methods/http, user: _apt, uid: 42}}
  - at: 1
    prompt:
      host: example.com
      dst: 93.184.216.34
      dst_port: 443
      src: 10.0.2.15
      src_port: 54321
      process: {pid: 4321, ppid: 4300, uid: 1000, user: alice, comm: curl, path: /usr/bin/curl,
                args: [curl, -sS, "https://example.com/"], cwd: /home/alice,
                parents: [{pid: 4300, name: bash}, {pid: 4100, name: sshd}, {pid: 1, name: systemd}]}
  - at: 2
    prompt:
      protocol: udp
      dst: "2001:db8::53"
      dst_port: 123
      src: "2001:db8::15"
      src_port: 50123
      method: diag
      process: {pid: 777, comm: ntpd, path: /usr/sbin/ntpd, args: [/usr/sbin/ntpd, -g], cwd: /, user: ntp, uid: 107,
                parents: [{pid: 1, name: systemd}]}
)yaml";
}

}  // namespace tsnitch::tui::demo
