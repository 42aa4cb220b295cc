#include "tui/prompt_form.h"

#include <doctest/doctest.h>

#include "tui/keys.h"

using namespace tsnitch;
using namespace tsnitch::tui;
using namespace std::chrono_literals;

namespace {

using Clock = PromptForm::Clock;

PendingPrompt curl_prompt() {
    PendingPrompt p;
    p.id = 7;
    p.connection.protocol = Protocol::tcp;
    p.connection.dst = *IpAddress::parse("93.184.216.34");
    p.connection.dst_port = 443;
    p.connection.dst_host = "example.com";
    ProcessInfo proc;
    proc.pid = 4321;
    proc.uid = 1000;
    proc.comm = "curl";
    proc.path = "/usr/bin/curl";
    proc.args = {"curl", "https://example.com"};
    p.connection.process = std::make_shared<const ProcessInfo>(proc);
    p.method = Method::ebpf;
    p.default_action = Action::deny;
    return p;
}

const Clock::time_point t0{};
const auto later = t0 + 1s;

PromptForm make_form(RuleDuration d = {}) {
    return PromptForm(curl_prompt(), d, 500ms, t0);
}

}  // namespace

TEST_CASE("keys typed in the first moment after the prompt appears do not answer it") {
    PromptForm f = make_form();
    CHECK_FALSE(f.handle_key('a', t0 + 100ms));
    CHECK_FALSE(f.handle_key(key::enter, t0 + 499ms));
    CHECK(f.ignoring_keys(t0 + 499ms));
    const auto a = f.handle_key('a', t0 + 500ms);
    REQUIRE(a);
    CHECK(a->action == Action::allow);
}

TEST_CASE("one key answers with the preselected duration; once stores no rule") {
    PromptForm f = make_form();
    const auto a = f.handle_key('d', later);
    REQUIRE(a);
    CHECK(a->action == Action::deny);
    CHECK(a->duration == RuleDuration{});
    CHECK_FALSE(a->rule);
    const auto r = make_form().handle_key('r', later);
    REQUIRE(r);
    CHECK(r->action == Action::reject);
}

TEST_CASE("the configured default duration is preselected, also one not in the list") {
    PromptForm f = make_form(RuleDuration{RuleDuration::Kind::always, {}});
    CHECK(f.durations()[f.duration_index()].to_string() == "always");
    PromptForm g = make_form(*RuleDuration::parse("2h"));
    CHECK(g.durations()[g.duration_index()].to_string() == "2h");
    CHECK(g.durations().size() == standard_durations().size() + 1);
}

TEST_CASE("arrows change the duration and Tab moves to the scope") {
    PromptForm f = make_form();
    CHECK(f.focus() == PromptForm::Field::duration);
    f.handle_key(key::right, later);
    f.handle_key(key::right, later);
    CHECK(f.durations()[f.duration_index()].to_string() == "5m");
    f.handle_key(key::tab, later);
    CHECK(f.focus() == PromptForm::Field::scope);
    f.handle_key(key::right, later);  // this command line
    f.handle_key(key::right, later);  // destination host
    const auto a = f.handle_key('a', later);
    REQUIRE(a);
    REQUIRE(a->rule);
    CHECK(a->duration.to_string() == "5m");
    CHECK(a->rule->duration.to_string() == "5m");
    CHECK(a->rule->action == Action::allow);
    RuleOperator host;
    host.type = OperatorType::simple;
    host.operand = "dest.host";
    host.data = "example.com";
    CHECK(a->rule->op == host);
    CHECK(a->rule->name == "allow-5m-simple-example.com");
    CHECK(a->rule->enabled);
}

TEST_CASE("Left from the first choice wraps to the last") {
    PromptForm f = make_form();
    f.handle_key(key::left, later);
    CHECK(f.durations()[f.duration_index()].to_string() == "always");
    f.handle_key(key::backtab, later);
    f.handle_key(key::backtab, later);
    CHECK(f.focus() == PromptForm::Field::scope);
    f.handle_key(key::left, later);
    CHECK(scope_label(f.scopes()[f.scope_index()]) == "executable + port");
}

TEST_CASE("Enter confirms the selected action; Esc gives the default whatever is selected") {
    PromptForm f = make_form();
    f.handle_key(key::backtab, later);  // action field
    CHECK(f.focus() == PromptForm::Field::action);
    f.handle_key(key::left, later);  // deny -> allow
    CHECK(f.action() == Action::allow);
    f.handle_key(key::tab, later);
    f.handle_key(key::right, later);  // 30s
    const auto enter = f.handle_key(key::enter, later);
    REQUIRE(enter);
    CHECK(enter->action == Action::allow);
    CHECK(enter->duration.to_string() == "30s");
    REQUIRE(enter->rule);
    CHECK(enter->rule->op.operand == "process.path");

    const auto esc = f.handle_key(key::escape, later);
    REQUIRE(esc);
    CHECK(esc->action == Action::deny);
    CHECK(esc->duration == RuleDuration{});
    CHECK_FALSE(esc->rule);
}

TEST_CASE("a refreshed prompt keeps what was selected") {
    PromptForm f = make_form();
    f.handle_key(key::right, later);
    PendingPrompt p = curl_prompt();
    p.joined = 3;
    f.refresh(p);
    CHECK(f.prompt().joined == 3);
    CHECK(f.durations()[f.duration_index()].to_string() == "30s");
}

TEST_CASE("a rule from a row: the prompt's form without once, always preselected, keys at once") {
    PendingPrompt p = curl_prompt();
    PromptForm f = PromptForm::for_new_rule(p.connection, Action::allow);
    CHECK(f.new_rule());
    CHECK_FALSE(f.ignoring_keys(t0));
    CHECK(f.action() == Action::allow);
    REQUIRE_FALSE(f.durations().empty());
    for (const RuleDuration& d : f.durations())
        CHECK(d.kind != RuleDuration::Kind::once);
    CHECK(f.durations()[f.duration_index()].kind == RuleDuration::Kind::always);
    // The destination scopes are offered for a connection with a peer; d answers at once.
    CHECK(f.scopes().size() > 3);
    auto a = f.handle_key('d', t0);
    REQUIRE(a);
    REQUIRE(a->rule);
    CHECK(a->rule->action == Action::deny);
    CHECK(a->rule->op.operand == "process.path");
    CHECK(a->rule->duration.kind == RuleDuration::Kind::always);
    // Left from always goes to "until restart", never to once.
    f.handle_key(key::left, t0);
    CHECK(f.durations()[f.duration_index()].kind == RuleDuration::Kind::until_restart);
}

TEST_CASE("a rule for a listening socket offers only the process's scopes") {
    Connection c = curl_prompt().connection;
    c.dst = IpAddress();
    c.dst_port = 0;
    c.dst_host.reset();
    c.uid = 1000;
    PromptForm f = PromptForm::for_new_rule(c, Action::deny);
    std::vector<ScopeKind> kinds;
    for (const Scope& s : f.scopes())
        kinds.push_back(s.kind);
    CHECK(kinds ==
          std::vector<ScopeKind>{ScopeKind::executable, ScopeKind::command_line, ScopeKind::user});
}

TEST_CASE("the user scope names the user, not only the uid") {
    Connection c = curl_prompt().connection;
    c.uid = 1000;
    copy_to_change(c.process).user = "alice";
    CHECK(scope_text(c, Scope{ScopeKind::user, {}}) == "this user: alice (1000)");
    copy_to_change(c.process).user.clear();
    CHECK(scope_text(c, Scope{ScopeKind::user, {}}) == "this user: 1000");
    CHECK(scope_text(c, Scope{ScopeKind::domain, "example.com"}) == "*.example.com");
    CHECK(scope_text(c, Scope{ScopeKind::executable, {}}) == "this executable: /usr/bin/curl");
}

TEST_CASE("the rule durations are the standard ones without once") {
    CHECK(rule_durations().size() + 1 == standard_durations().size());
    CHECK(rule_durations().front() == standard_durations()[1]);
    CHECK(rule_durations().back().kind == RuleDuration::Kind::always);
}
