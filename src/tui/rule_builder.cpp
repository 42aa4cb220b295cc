#include "tui/rule_builder.h"

#include <cctype>

#include "core/json.h"
#include "core/text.h"

namespace tsnitch::tui {

namespace {

std::string host_of(const Connection& c) {
    std::string h = ascii_lower(c.dst_host.value_or(""));
    while (!h.empty() && h.back() == '.')
        h.pop_back();
    return h;
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

// RE2 syntax: every ASCII punctuation character is escaped, so a name is matched literally.
std::string regexp_quote(std::string_view s) {
    std::string out;
    for (char ch : s) {
        const auto u = static_cast<unsigned char>(ch);
        if (u < 0x80 && std::ispunct(u) && ch != '-' && ch != '_') out += '\\';
        out += ch;
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

std::optional<uint32_t> uid_of(const Connection& c) {
    if (c.process) return c.process->uid;
    return c.uid;
}

std::string ip_text(const Connection& c) {
    return c.dst.unmapped().to_string();
}

std::string network_text(const Connection& c) {
    const IpAddress a = c.dst.unmapped();
    const unsigned prefix = a.is_v4() ? 24 : 64;
    return IpNetwork{a.masked(prefix), prefix}.to_string();
}

RuleOperator simple(std::string operand, std::string data) {
    return RuleOperator{"simple", std::move(operand), false, std::move(data), {}};
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
            return RuleOperator{
                "regexp", "dest.host", false, "^(|.*\\.)" + regexp_quote(s.domain) + "$", {}};
        case ScopeKind::ip:
            return simple("dest.ip", ip_text(c));
        case ScopeKind::network:
            return RuleOperator{"network", "dest.network", false, network_text(c), {}};
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
            RuleOperator op{"list", "list", false, "", {}};
            op.list = {simple("process.path", path), operator_for(c, Scope{second, {}})};
            op.data = list_data_json(op.list);
            return op;
        }
    }
    return simple("process.path", path);
}

void append_operator_json(std::string& out, const RuleOperator& op) {
    out += "{\"type\":" + json_quote(op.type) + ",\"operand\":" + json_quote(op.operand) +
           ",\"sensitive\":" + (op.sensitive ? "true" : "false") +
           ",\"data\":" + json_quote(op.data) + ",\"list\":";
    if (op.list.empty()) {
        out += "null";
    } else {
        out += '[';
        for (size_t i = 0; i < op.list.size(); ++i) {
            if (i) out += ',';
            append_operator_json(out, op.list[i]);
        }
        out += ']';
    }
    out += '}';
}

}  // namespace

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
    if (op.type != "list") return s.kind == ScopeKind::domain ? s.domain : op.data;
    std::vector<std::string> parts;
    for (const auto& sub : op.list)
        parts.push_back(sub.data);
    return join(parts, " + ");
}

RuleSpec build_rule(const Connection& c, const Scope& s, Action action, RuleDuration duration) {
    RuleSpec r;
    r.action = action;
    r.duration = duration;
    r.op = operator_for(c, s);
    std::string values;
    if (r.op.type == "list") {
        for (const auto& sub : r.op.list)
            values += " " + sub.data;
    } else {
        values = " " + (s.kind == ScopeKind::domain ? s.domain : r.op.data);
    }
    r.name = slugify(std::string(action_name(action)) + " " + duration.to_string() + " " +
                     r.op.type + values);
    r.description = scope_label(s) + ": " + scope_value(c, s);
    return r;
}

std::string operator_summary(const RuleOperator& op) {
    if (op.type == "list") {
        std::string out;
        for (size_t i = 0; i < op.list.size(); ++i) {
            if (i) out += " & ";
            out += operator_summary(op.list[i]);
        }
        return out.empty() ? "list " + op.data : out;
    }
    if (op.operand == "true") return "always";
    const std::string_view relation = op.type == "simple"    ? " = "
                                      : op.type == "regexp"  ? " ~ "
                                      : op.type == "network" ? " in "
                                                             : " ";
    if (relation == " ") return op.operand + " " + op.type + " " + op.data;
    return op.operand + std::string(relation) + op.data;
}

std::string list_data_json(const std::vector<RuleOperator>& list) {
    std::string out = "[";
    for (size_t i = 0; i < list.size(); ++i) {
        if (i) out += ", ";
        out += "{\"type\": " + json_quote(list[i].type) +
               ", \"operand\": " + json_quote(list[i].operand) +
               ", \"sensitive\": " + (list[i].sensitive ? "true" : "false") +
               ", \"data\": " + json_quote(list[i].data) + "}";
    }
    return out + "]";
}

std::string rule_json(const RuleSpec& r) {
    std::string out = "{\"name\":" + json_quote(r.name) +
                      ",\"description\":" + json_quote(r.description) +
                      ",\"enabled\":true,\"precedence\":false,\"nolog\":false,\"action\":" +
                      json_quote(action_name(r.action)) +
                      ",\"duration\":" + json_quote(r.duration.to_string()) + ",\"operator\":";
    append_operator_json(out, r.op);
    return out + "}";
}

std::string slugify(std::string_view text) {
    std::string out;
    for (char ch : text) {
        const auto u = static_cast<unsigned char>(ch);
        if (std::isalnum(u) && u < 0x80) {
            out += static_cast<char>(std::tolower(u));
        } else if (ch == '.' && !out.empty() && out.back() != '-' && out.back() != '.') {
            out += '.';
        } else if (!out.empty() && out.back() != '-') {
            out += '-';
        }
    }
    while (!out.empty() && (out.back() == '-' || out.back() == '.'))
        out.pop_back();
    if (out.size() > 100) out.resize(100);
    while (!out.empty() && (out.back() == '-' || out.back() == '.'))
        out.pop_back();
    return out.empty() ? "rule" : out;
}

}  // namespace tsnitch::tui
