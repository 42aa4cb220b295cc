// Which decisions the kernel's verdict cache may repeat (DESIGN.md §8a): only those that every
// enabled rule able to match a flow with the same executable, user, protocol, destination address
// and port decides on those fields alone.
#include <doctest/doctest.h>

#include "core/rules/kernel_cacheable.h"
#include "core/rules/rule_store.h"
#include "rules_helpers.h"

using namespace rules_test;
using namespace std::chrono_literals;

namespace {

KeyReach reach(const RuleOperator& o, const Connection& c = conn(), bool* reads_host = nullptr) {
    auto compiled = CompiledOperator::compile(o, test_context(), "operator");
    REQUIRE(compiled);
    MatchInput in(c, nullptr);
    return key_reach(*compiled, in, reads_host);
}

std::unique_ptr<RuleStore> store_of(std::vector<Rule> rules) {
    RuleStoreOptions o;
    o.compile = test_context();
    auto s = std::make_unique<RuleStore>(o);
    for (Rule& r : rules)
        REQUIRE(s->add(std::move(r)));
    return s;
}

}  // namespace

TEST_CASE("operands the kernel's key fixes decide; the others need more than the key") {
    CHECK(reach(simple("process.path", "/usr/bin/curl")) == KeyReach::decides);
    CHECK(reach(simple("user.id", "1000")) == KeyReach::decides);
    CHECK(reach(simple("user.name", "alice")) == KeyReach::decides);
    CHECK(reach(simple("dest.ip", "93.184.216.34")) == KeyReach::decides);
    CHECK(reach(simple("dest.port", "443")) == KeyReach::decides);
    CHECK(reach(op(OperatorType::network, "dest.network", "93.184.0.0/16")) == KeyReach::decides);
    CHECK(reach(simple("protocol", "tcp")) == KeyReach::decides);
    CHECK(reach(simple("true", "")) == KeyReach::decides);
    CHECK(reach(regexp("process.path", "^/usr/bin/")) == KeyReach::decides);
    // A key operand that fails: no flow with this key can match.
    CHECK(reach(simple("process.path", "/usr/bin/wget")) == KeyReach::cannot_match);
    CHECK(reach(simple("dest.port", "80")) == KeyReach::cannot_match);
    // Whatever they say for this flow, another flow with the same key may differ.
    CHECK(reach(simple("process.command", "curl -s https://example.com/")) == KeyReach::needs_more);
    CHECK(reach(simple("process.env.HOME", "/home/alice")) == KeyReach::needs_more);
    // (Host names only per address: see below.)
    CHECK(reach(simple("dest.host", "www.example.com")) == KeyReach::needs_more);
    CHECK(reach(simple("source.port", "54321")) == KeyReach::needs_more);
    CHECK(reach(simple("process.id", "4242")) == KeyReach::needs_more);
    CHECK(reach(simple("process.parent.path", "/usr/bin/bash")) == KeyReach::needs_more);
    CHECK(reach(simple("iface.out", "eth0")) == KeyReach::needs_more);
}

TEST_CASE("a list is ruled out by any key field that fails, else needs all its fields in the key") {
    CHECK(reach(all_of({simple("process.path", "/usr/bin/curl"), simple("dest.port", "443")})) ==
          KeyReach::decides);
    CHECK(reach(all_of({simple("process.path", "/usr/bin/curl"),
                        simple("process.command", "curl -s https://example.com/")})) ==
          KeyReach::needs_more);
    // The args don't matter when the executable is another one.
    CHECK(reach(all_of({simple("process.command", "x"), simple("process.path", "/bin/wget")})) ==
          KeyReach::cannot_match);
    CHECK(reach(all_of({simple("dest.host", "www.example.com"),
                        all_of({simple("dest.port", "80")})})) == KeyReach::cannot_match);
}

TEST_CASE("a decision is cacheable when every rule that could match decides on the key") {
    auto s = store_of(
        {rule("allow-curl", Action::allow,
              all_of({simple("process.path", "/usr/bin/curl"), simple("dest.port", "443")})),
         rule("deny-wget-args", Action::deny,
              all_of({simple("process.path", "/usr/bin/wget"),
                      simple("process.command", "wget evil")}))});
    auto k = s->match_for_kernel_cache(conn());
    REQUIRE(k);
    CHECK(k->match.action == Action::allow);
    CHECK(k->match.rule_name == "allow-curl");
    CHECK_FALSE(k->expires);
    // No rule matches: a prompt or DefaultAction decides, never the kernel.
    CHECK_FALSE(s->match_for_kernel_cache(conn("93.184.216.34", 80)));
}

TEST_CASE("a rule the kernel cannot evaluate that could match keeps the decision in the queue") {
    auto s = store_of({rule("a-allow-curl", Action::allow, simple("process.path", "/usr/bin/curl")),
                       rule("b-deny-cmd", Action::deny,
                            simple("process.command", "curl -s https://evil.example/"))});
    // The deny does not match this flow, but it would match another of the same key.
    CHECK(s->match(conn())->rule_name == "a-allow-curl");
    CHECK_FALSE(s->match_for_kernel_cache(conn()));
    auto env = store_of({rule("allow", Action::allow, simple("process.path", "/usr/bin/curl")),
                         rule("deny-env", Action::deny, simple("process.env.HOME", "/root"))});
    CHECK_FALSE(env->match_for_kernel_cache(conn()));
}

TEST_CASE("host name rules are decided per address: the kernel cache keeps the name's answer") {
    bool host = false;
    CHECK(reach(simple("dest.host", "www.example.com"), conn(), &host) == KeyReach::decides);
    CHECK(host);
    host = false;
    CHECK(reach(simple("dest.host", "other.example"), conn(), &host) == KeyReach::cannot_match);
    CHECK(host);
    Connection unnamed = conn();
    unnamed.dst_host.reset();
    host = false;
    CHECK(reach(simple("dest.host", "www.example.com"), unnamed, &host) == KeyReach::cannot_match);
    CHECK(host);  // until DNS names the address
    host = false;
    CHECK(reach(simple("process.path", "/usr/bin/curl"), conn(), &host) == KeyReach::decides);
    CHECK_FALSE(host);
    host = false;
    CHECK(reach(simple("process.command", "x"), conn(), &host) == KeyReach::needs_more);

    auto s = store_of({rule("allow", Action::allow, simple("process.path", "/usr/bin/curl")),
                       rule("deny-host", Action::deny, simple("dest.host", "evil.example"))});
    auto k = s->match_for_kernel_cache(conn());
    REQUIRE(k);
    CHECK(k->match.rule_name == "allow");
    CHECK(k->per_address);
    Connection evil = conn();
    evil.dst_host = "evil.example";
    k = s->match_for_kernel_cache(evil);
    REQUIRE(k);
    CHECK(k->match.rule_name == "deny-host");
    CHECK(k->per_address);
    auto plain = store_of({rule("allow", Action::allow, simple("process.path", "/usr/bin/curl"))});
    k = plain->match_for_kernel_cache(conn());
    REQUIRE(k);
    CHECK_FALSE(k->per_address);
}

TEST_CASE("a deny that matches on key fields wins for the key whatever comes after it") {
    auto s = store_of({rule("a-deny-curl", Action::deny, simple("process.path", "/usr/bin/curl")),
                       rule("b-allow-cmd", Action::allow, simple("process.command", "x"))});
    auto k = s->match_for_kernel_cache(conn());
    REQUIRE(k);
    CHECK(k->match.action == Action::deny);
    CHECK(k->match.rule_name == "a-deny-curl");
}

TEST_CASE("disabled and expired rules do not count; timed rules give their expiry") {
    auto t = std::chrono::system_clock::time_point{} + 1'800'000'000s;
    RuleStoreOptions o;
    o.compile = test_context();
    o.clock = [&t] { return t; };
    RuleStore s(o);
    Rule off = rule("deny-cmd", Action::deny, simple("process.command", "x"));
    off.enabled = false;
    REQUIRE(s.add(off));
    REQUIRE(s.add(rule("allow-curl-5m", Action::allow, simple("process.path", "/usr/bin/curl"),
                       {RuleDuration::Kind::timed, 300s})));
    REQUIRE(s.add(rule("allow-443-1h", Action::allow, simple("dest.port", "443"),
                       {RuleDuration::Kind::timed, 3600s})));
    auto k = s.match_for_kernel_cache(conn());
    REQUIRE(k);
    CHECK(k->match.rule_name == "allow-curl-5m");  // the last matching allow, by name
    REQUIRE(k->expires);
    CHECK(*k->expires == t + 300s);  // the earliest end among the matching rules
    t += 301s;
    k = s.match_for_kernel_cache(conn());
    REQUIRE(k);
    CHECK(k->match.rule_name == "allow-443-1h");
    CHECK(*k->expires == t - 301s + 3600s);
    // Enabling the rule the kernel cannot evaluate takes caching away.
    REQUIRE(s.set_enabled("deny-cmd", true));
    CHECK_FALSE(s.match_for_kernel_cache(conn()));
}

namespace {

// The connection as a queue reader over its bound has it: no process, the kernel's uid.
Connection without_process(const char* dst = "93.184.216.34", uint16_t dport = 443) {
    Connection c = conn(dst, dport);
    c.process = nullptr;
    return c;
}

KeyReach reach_bare(const RuleOperator& o, const Connection& c = without_process()) {
    auto compiled = CompiledOperator::compile(o, test_context(), "operator");
    REQUIRE(compiled);
    MatchInput in(c, nullptr);
    return reach_without_process(*compiled, in);
}

}  // namespace

TEST_CASE(
    "without the process: what the packet and the kernel give decides, the process does not") {
    CHECK(reach_bare(simple("dest.port", "443")) == KeyReach::decides);
    CHECK(reach_bare(simple("dest.port", "80")) == KeyReach::cannot_match);
    CHECK(reach_bare(simple("dest.host", "www.example.com")) == KeyReach::decides);
    CHECK(reach_bare(simple("source.port", "54321")) == KeyReach::decides);
    CHECK(reach_bare(simple("iface.out", "eth0")) == KeyReach::decides);
    CHECK(reach_bare(simple("protocol", "tcp")) == KeyReach::decides);
    CHECK(reach_bare(simple("user.id", "1000")) == KeyReach::decides);
    CHECK(reach_bare(simple("user.name", "alice")) == KeyReach::decides);  // compiled to uid 1000
    CHECK(reach_bare(simple("process.path", "/usr/bin/curl")) == KeyReach::needs_more);
    CHECK(reach_bare(simple("process.command", "curl")) == KeyReach::needs_more);
    CHECK(reach_bare(simple("process.id", "4242")) == KeyReach::needs_more);
    CHECK(reach_bare(simple("process.parent.path", "/usr/bin/bash")) == KeyReach::needs_more);
    CHECK(reach_bare(simple("process.env.HOME", "/root")) == KeyReach::needs_more);
    // The uid comes with the packet; without it the user is the process's.
    Connection no_uid = without_process();
    no_uid.uid.reset();
    CHECK(reach_bare(simple("user.id", "1000"), no_uid) == KeyReach::needs_more);
    // An AND with a field that fails is ruled out whatever the process would say.
    CHECK(reach_bare(all_of({simple("process.path", "/usr/bin/curl"),
                             simple("dest.port", "80")})) == KeyReach::cannot_match);
    CHECK(reach_bare(all_of({simple("process.path", "/usr/bin/curl"),
                             simple("dest.port", "443")})) == KeyReach::needs_more);
}

TEST_CASE("without the process the rules decide only when no rule that could match reads it") {
    auto s = store_of(
        {rule("allow-8080", Action::allow, simple("dest.port", "8080")),
         rule("deny-curl-443", Action::deny,
              all_of({simple("process.path", "/usr/bin/curl"), simple("dest.port", "443")}))});
    auto m = s->match_without_process(without_process("10.0.0.2", 8080));
    REQUIRE(m);
    CHECK(m->action == Action::allow);
    CHECK(m->rule_name == "allow-8080");
    // To 443 the deny could match, if the process is curl: no answer without it.
    CHECK_FALSE(s->match_without_process(without_process("10.0.0.2", 443)));
    // No rule matches: no answer (a prompt or DefaultAction decides).
    CHECK_FALSE(s->match_without_process(without_process("10.0.0.2", 22)));

    // A deny on the port wins whatever comes after it; an allow after a process rule that could
    // match does not.
    auto d =
        store_of({rule("a-deny-8080", Action::deny, simple("dest.port", "8080")),
                  rule("b-allow-curl", Action::allow, simple("process.path", "/usr/bin/curl"))});
    REQUIRE(d->match_without_process(without_process("10.0.0.2", 8080)));
    CHECK(d->match_without_process(without_process("10.0.0.2", 8080))->rule_name == "a-deny-8080");
    auto p = store_of({rule("a-allow-8080", Action::allow, simple("dest.port", "8080")),
                       rule("b-deny-curl", Action::deny, simple("process.path", "/usr/bin/curl"))});
    CHECK_FALSE(p->match_without_process(without_process("10.0.0.2", 8080)));
    // A disabled rule does not count.
    REQUIRE(p->set_enabled("b-deny-curl", false));
    CHECK(p->match_without_process(without_process("10.0.0.2", 8080))->rule_name == "a-allow-8080");
}
