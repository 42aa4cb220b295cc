// From a prompt's answer to the rule a person would write by hand: the scopes a connection offers
// ("this executable", "*.example.com", "10.0.2.0/24", ...) and the OpenSnitch rule for each.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/connection.h"
#include "core/duration.h"
#include "tui/backend.h"

namespace tsnitch::tui {

enum class ScopeKind {
    executable,       // process.path
    command_line,     // process.command
    host,             // dest.host
    domain,           // dest.host regexp: the domain and every name under it
    ip,               // dest.ip
    network,          // dest.network /24 (v4) or /64 (v6)
    port,             // dest.port
    user,             // user.id
    executable_host,  // list: process.path + dest.host
    executable_ip,    // list: process.path + dest.ip
    executable_port,  // list: process.path + dest.port
};

struct Scope {
    ScopeKind kind = ScopeKind::executable;
    std::string domain;  // for kind domain: "example.com" (the rule covers *.example.com too)
    friend bool operator==(const Scope&, const Scope&) = default;
};

// The scopes that make sense for this connection, executable first (the usual default), then
// the narrower combinations last. Scopes whose data is unknown (no host name, no process) are
// left out.
std::vector<Scope> scopes_for(const Connection& c);

// "this executable", "destination host", "*.example.com", ... (short, no data).
std::string scope_label(const Scope& s);
// The value the scope would match, raw (not yet made safe): "/usr/bin/curl", "10.0.2.0/24".
std::string scope_value(const Connection& c, const Scope& s);

// The rule for (connection, scope, action, duration). Duration must not be once.
RuleSpec build_rule(const Connection& c, const Scope& s, Action action, RuleDuration duration);

// The operator in one line for the Rules view: "process.path = /usr/bin/curl",
// "dest.host ~ ^(|.*\.)example\.com$", "process.path = /usr/bin/curl & dest.port = 443".
std::string operator_summary(const RuleOperator& op);

// The rule as one line of OpenSnitch rule JSON (no created/updated: the store adds them).
std::string rule_json(const RuleSpec& r);
// A list operator's `data`: its sub-operators as OpenSnitch's UI writes them (Python json.dumps).
std::string list_data_json(const std::vector<RuleOperator>& list);

// A rule name from free text: lower case, [a-z0-9.-], dashes collapsed, at most 100 characters.
std::string slugify(std::string_view text);

}  // namespace tsnitch::tui
