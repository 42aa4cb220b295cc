#include "core/rules/rule_for_connection.h"

#include "core/rules/lists.h"

namespace tsnitch {

std::string regexp_quote(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (std::string_view("\\.+*?()|[]{}^$").find(c) != std::string_view::npos) out += '\\';
        out += c;
    }
    return out;
}

namespace {

// Lower-case letters, digits, '.' and '-' only; OpenSnitch's names look the same.
std::string slug(std::string_view s) {
    std::string out;
    for (char c : s) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-') out += c;
    }
    return out;
}

RuleOperator simple_op(std::string operand, std::string data) {
    RuleOperator o;
    o.type = OperatorType::simple;
    o.operand = std::move(operand);
    o.data = std::move(data);
    return o;
}

}  // namespace

Result<Rule> rule_for_connection(const Connection& c, Action action, RuleDuration duration,
                                 const RuleScope& scope,
                                 std::chrono::system_clock::time_point now) {
    std::vector<RuleOperator> ops;
    const ProcessInfo* p = c.process ? &*c.process : nullptr;
    if (scope.process_path && p && !p->path.empty()) {
        ops.push_back(simple_op("process.path", p->path));
    }
    if (scope.process_command && p && !p->args.empty()) {
        std::string cmd;
        for (const std::string& a : p->args)
            cmd += (cmd.empty() ? "" : " ") + a;
        ops.push_back(simple_op("process.command", cmd));
        ops.back().sensitive = true;
    }
    if (scope.user_id) {
        if (c.uid) {
            ops.push_back(simple_op("user.id", std::to_string(*c.uid)));
        } else if (p) {
            ops.push_back(simple_op("user.id", std::to_string(p->uid)));
        }
    }
    if (scope.dest_host && c.dst_host && !c.dst_host->empty()) {
        const std::string host = normalize_host(*c.dst_host);
        if (scope.subdomains) {
            RuleOperator o = simple_op("dest.host", "^(|.*\\.)" + regexp_quote(host) + "$");
            o.type = OperatorType::regexp;
            ops.push_back(o);
        } else {
            ops.push_back(simple_op("dest.host", host));
        }
    }
    if (scope.dest_ip) ops.push_back(simple_op("dest.ip", plain_address(c.dst).to_string()));
    if (scope.dest_port) ops.push_back(simple_op("dest.port", std::to_string(c.dst_port)));
    if (scope.protocol)
        ops.push_back(simple_op("protocol", std::string(protocol_name(c.protocol))));
    if (ops.empty()) return make_error("the chosen scope matches nothing this connection has");

    Rule r;
    r.action = action;
    r.duration = duration;
    r.created = r.updated = rfc3339_utc(now);
    std::string what;
    if (ops.size() == 1) {
        r.op = ops[0];
        what = std::string(operator_type_name(r.op.type)) + "-" + slug(r.op.data);
    } else {
        r.op.type = OperatorType::list;
        r.op.operand = "list";
        r.op.list = ops;
        what = "list";
        for (const RuleOperator& o : ops) {
            what += "-" + slug(o.type == OperatorType::regexp && o.operand == "dest.host"
                                   ? normalize_host(*c.dst_host)
                                   : o.data);
        }
    }
    r.name = std::string(action_name(action)) + "-" + slug(duration.to_string()) + "-" + what;
    if (r.name.size() > 120) r.name.resize(120);
    while (r.name.ends_with('-'))
        r.name.pop_back();
    r.description = "made from a connection of " +
                    (p ? p->path : std::string("an unknown process")) + " to " + c.to_string();
    return r;
}

}  // namespace tsnitch
