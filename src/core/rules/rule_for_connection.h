// Rules made from a prompt's answer: what the person chose to allow or deny about a connection
// (this executable, to this host, this port, ...) becomes an OpenSnitch rule, named the way
// OpenSnitch's prompt names them ("allow-always-simple-usrbincurl").
#pragma once

#include <chrono>

#include "core/connection.h"
#include "core/duration.h"
#include "core/rules/rule.h"

namespace tsnitch {

// Which properties of the connection the rule pins down; several make a `list` rule (all must
// match). A property the connection lacks (no process, no host name) is left out.
struct RuleScope {
    bool process_path = true;
    bool process_command = false;
    bool user_id = false;
    bool dest_host = false;
    bool subdomains = false;  // with dest_host: the host and all its subdomains (a regexp)
    bool dest_ip = false;
    bool dest_port = false;
    bool protocol = false;
};

// Fails only when the scope selects nothing the connection has.
Result<Rule> rule_for_connection(const Connection& c, Action action, RuleDuration duration,
                                 const RuleScope& scope, std::chrono::system_clock::time_point now);

// RE2 text that matches `s` literally.
std::string regexp_quote(std::string_view s);

}  // namespace tsnitch
