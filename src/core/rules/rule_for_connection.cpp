#include "core/rules/rule_for_connection.h"

#include <cctype>

#include "core/rules/lists.h"

namespace tsnitch {

namespace {

std::string host_of(const Connection& c) {
    return c.dst_host ? normalize_host(*c.dst_host) : std::string();
}

std::vector<std::string> split_labels(std::string_view host) {
    std::vector<std::string> labels;
    size_t start = 0;
    while (start <= host.size()) {
        const size_t dot = host.find('.', start);
        const size_t end = dot == std::string_view::npos ? host.size() : dot;
        labels.emplace_back(host.substr(start, end - start));
        if (dot == std::string_view::npos) break;
        start = dot + 1;
    }
    return labels;
}

std::string join(const std::vector<std::string>& parts, std::string_view sep, size_t from = 0) {
    std::string out;
    for (size_t i = from; i < parts.size(); ++i) {
        if (i > from) out += sep;
        out += parts[i];
    }
    return out;
}

// "co.uk", "com.au", "ac.jp": second-level names under a country code that registries hand out,
// so "*.co.uk" would be a rule for half a country. (A heuristic; no public suffix list here.)
bool is_registry_suffix(std::string_view second, std::string_view top) {
    static constexpr std::string_view kSecondLevels[] = {"co", "com", "net", "org", "gov", "edu",
                                                         "ac", "or",  "ne",  "go",  "gob", "nic"};
    if (top.size() != 2) return false;
    for (std::string_view s : kSecondLevels) {
        if (second == s) return true;
    }
    return false;
}

bool has_path(const Connection& c) {
    return c.process && !c.process->path.empty();
}

// The uid a user.id rule compares: the kernel's first, as the matcher does.
std::optional<uint32_t> uid_of(const Connection& c) {
    if (c.uid) return c.uid;
    if (c.process) return c.process->uid;
    return std::nullopt;
}

std::string network_text(const Connection& c) {
    const IpAddress a = plain_address(c.dst);
    const unsigned prefix = a.is_v4() ? 24 : 64;
    return IpNetwork{a.masked(prefix), prefix}.to_string();
}

RuleOperator make_op(OperatorType type, std::string operand, std::string data) {
    RuleOperator o;
    o.type = type;
    o.operand = std::move(operand);
    o.data = std::move(data);
    return o;
}

RuleOperator simple(std::string operand, std::string data) {
    return make_op(OperatorType::simple, std::move(operand), std::move(data));
}

RuleOperator operator_for(const Connection& c, const Scope& s) {
    const std::string path = c.process ? c.process->path : "";
    switch (s.kind) {
        case ScopeKind::executable:
            return simple("process.path", path);
        case ScopeKind::command_line:
            return simple("process.command", c.process ? join(c.process->args, " ") : "");
        case ScopeKind::host:
            return simple("dest.host", host_of(c));
        case ScopeKind::domain:
            return make_op(OperatorType::regexp, "dest.host",
                           "^(|.*\\.)" + regexp_quote(s.domain) + "$");
        case ScopeKind::ip:
            return simple("dest.ip", plain_address(c.dst).to_string());
        case ScopeKind::network:
            return make_op(OperatorType::network, "dest.network", network_text(c));
        case ScopeKind::port:
            return simple("dest.port", std::to_string(c.dst_port));
        case ScopeKind::user:
            return simple("user.id", std::to_string(uid_of(c).value_or(0)));
        case ScopeKind::executable_host:
        case ScopeKind::executable_ip:
        case ScopeKind::executable_port: {
            const ScopeKind second = s.kind == ScopeKind::executable_host ? ScopeKind::host
                                     : s.kind == ScopeKind::executable_ip ? ScopeKind::ip
                                                                          : ScopeKind::port;
            RuleOperator op = make_op(OperatorType::list, "list", "");
            op.list = {simple("process.path", path), operator_for(c, Scope{second, {}})};
            // The string copy OpenSnitch keeps next to the list (and older readers use).
            op.data = operator_list_json(op.list);
            return op;
        }
    }
    return simple("process.path", path);
}

}  // namespace

std::string regexp_quote(std::string_view s) {
    std::string out;
    for (char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x80 && std::ispunct(u) && ch != '-' && ch != '_') out += '\\';
        out += ch;
    }
    return out;
}

std::vector<Scope> scopes_for(const Connection& c) {
    std::vector<Scope> out;
    const bool path = has_path(c);
    const bool ports = protocol_has_ports(c.protocol);
    const std::string host = host_of(c);
    if (path) out.push_back({ScopeKind::executable, {}});
    if (c.process && !c.process->args.empty()) out.push_back({ScopeKind::command_line, {}});
    if (!host.empty()) {
        out.push_back({ScopeKind::host, {}});
        // *.parent.domain for each parent with two labels or more; a two-label host offers
        // itself (example.com and everything under it).
        const auto labels = split_labels(host);
        if (labels.size() == 2) out.push_back({ScopeKind::domain, host});
        for (size_t k = 1; k + 2 <= labels.size(); ++k) {
            if (k + 2 == labels.size() && is_registry_suffix(labels[k], labels[k + 1])) break;
            out.push_back({ScopeKind::domain, join(labels, ".", k)});
        }
    }
    out.push_back({ScopeKind::ip, {}});
    out.push_back({ScopeKind::network, {}});
    if (ports) out.push_back({ScopeKind::port, {}});
    if (uid_of(c)) out.push_back({ScopeKind::user, {}});
    if (path) {
        if (!host.empty()) out.push_back({ScopeKind::executable_host, {}});
        out.push_back({ScopeKind::executable_ip, {}});
        if (ports) out.push_back({ScopeKind::executable_port, {}});
    }
    return out;
}

std::string scope_label(const Scope& s) {
    switch (s.kind) {
        case ScopeKind::executable:
            return "this executable";
        case ScopeKind::command_line:
            return "this command line";
        case ScopeKind::host:
            return "destination host";
        case ScopeKind::domain:
            return "*." + s.domain;
        case ScopeKind::ip:
            return "destination IP";
        case ScopeKind::network:
            return "destination network";
        case ScopeKind::port:
            return "destination port";
        case ScopeKind::user:
            return "this user";
        case ScopeKind::executable_host:
            return "executable + host";
        case ScopeKind::executable_ip:
            return "executable + IP";
        case ScopeKind::executable_port:
            return "executable + port";
    }
    return "?";
}

std::string scope_value(const Connection& c, const Scope& s) {
    const RuleOperator op = operator_for(c, s);
    // The rule matches the uid; the person reads the name with it ("this user: alice (1000)").
    if (s.kind == ScopeKind::user && c.process && !c.process->user.empty() &&
        uid_of(c) == c.process->uid)
        return c.process->user + " (" + op.data + ")";
    if (op.type != OperatorType::list) return s.kind == ScopeKind::domain ? s.domain : op.data;
    std::vector<std::string> parts;
    for (const auto& sub : op.list)
        parts.push_back(sub.data);
    return join(parts, " + ");
}

Rule build_rule(const Connection& c, const Scope& s, Action action, RuleDuration duration) {
    Rule r;
    r.action = action;
    r.duration = duration;
    r.op = operator_for(c, s);
    std::string values;
    if (r.op.type == OperatorType::list) {
        for (const auto& sub : r.op.list)
            values += " " + sub.data;
    } else {
        values = " " + (s.kind == ScopeKind::domain ? s.domain : r.op.data);
    }
    r.name = slugify(std::string(action_name(action)) + " " + duration.to_string() + " " +
                     std::string(operator_type_name(r.op.type)) + values);
    r.description = scope_label(s) + ": " + scope_value(c, s);
    return r;
}

std::string slugify(std::string_view text) {
    std::string out;
    for (char ch : text) {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x80 && std::isalnum(u)) {
            out += static_cast<char>(std::tolower(u));
        } else if (ch == '.') {
            if (!out.empty() && out.back() != '.' && out.back() != '-') out += '.';
        } else if (ch == '-' || ch == ' ' || ch == '\t') {
            if (!out.empty() && out.back() != '-') out += '-';
        }
    }
    if (out.size() > 100) out.resize(100);
    while (!out.empty() && (out.back() == '-' || out.back() == '.'))
        out.pop_back();
    return out.empty() ? "rule" : out;
}

}  // namespace tsnitch
