// From a prompt's answer to the rule a person would write by hand: the scopes a connection offers
// ("this executable", "*.example.com", "10.0.2.0/24", ...) and the OpenSnitch rule for each,
// named the way OpenSnitch's prompt names them ("allow-always-simple-usrbincurl").
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/connection.h"
#include "core/duration.h"
#include "core/rules/rule.h"

namespace tsnitch {

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

// The rule for (connection, scope, action, duration); `s` is one of scopes_for(c) and duration
// is not once. Enabled, no precedence; created/updated stay empty (the rule store stamps them).
Rule build_rule(const Connection& c, const Scope& s, Action action, RuleDuration duration);

// A rule name from free text, as OpenSnitch's prompt makes them: lower case ASCII letters and
// digits, '.' and '-' kept, spaces become '-', everything else ('/', ':', control characters)
// dropped; no leading '.', at most 100 characters, "rule" when nothing is left.
std::string slugify(std::string_view text);

// RE2 text that matches `s` literally (every ASCII punctuation character but '-' and '_' is
// escaped).
std::string regexp_quote(std::string_view s);

}  // namespace tsnitch
