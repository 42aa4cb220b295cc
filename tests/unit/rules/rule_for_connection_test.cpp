// Rules made from a prompt's answer match the connection they came from, and what was chosen.
#include <doctest/doctest.h>

#include "core/rules/rule_for_connection.h"
#include "core/rules/rule_store.h"
#include "rules_helpers.h"

using namespace rules_test;
using namespace std::chrono_literals;

namespace {

const auto kNow = std::chrono::system_clock::time_point{} + 1'800'000'000s;

bool matches(const Rule& r, const Connection& c) {
    auto o = CompiledOperator::compile(r.op, test_context(), "operator");
    REQUIRE_MESSAGE(o, (o ? "" : o.error().message));
    MatchInput in(c, nullptr);
    return o->match(in);
}

}  // namespace

TEST_CASE("the default scope is the executable, named as OpenSnitch names it") {
    auto r = rule_for_connection(conn(), Action::allow, {RuleDuration::Kind::always, {}}, {}, kNow);
    REQUIRE(r);
    CHECK(r->name == "allow-always-simple-usrbincurl");
    CHECK(r->op.operand == "process.path");
    CHECK(matches(*r, conn("1.1.1.1", 80)));
    CHECK_FALSE(matches(*r, conn("1.1.1.1", 80, "/usr/bin/wget")));
    CHECK(check_rule_name(r->name));
    CHECK(r->created == rfc3339_utc(kNow));
}

TEST_CASE("host with subdomains, port and user make a list rule") {
    RuleScope s;
    s.dest_host = true;
    s.subdomains = true;
    s.dest_port = true;
    s.user_id = true;
    Connection c = conn();
    c.dst_host = "api.example.com";
    auto r = rule_for_connection(c, Action::deny, {RuleDuration::Kind::timed, 300s}, s, kNow);
    REQUIRE(r);
    CHECK(r->name == "deny-5m-list-usrbincurl-1000-api.example.com-443");
    REQUIRE(r->op.type == OperatorType::list);
    CHECK(r->op.list.size() == 4);
    CHECK(matches(*r, c));
    Connection sub = c;
    sub.dst_host = "v2.api.example.com";
    CHECK(matches(*r, sub));
    Connection other = c;
    other.dst_host = "apixexample.com";
    CHECK_FALSE(matches(*r, other));
    CHECK_FALSE(matches(*r, conn("1.1.1.1", 80)));
}

TEST_CASE("a rule made from a connection is added and decides that connection") {
    ScratchDir d;
    RuleStoreOptions o;
    o.dir = d.path;
    o.compile = test_context();
    RuleStore store(o);
    RuleScope s;
    s.process_path = false;
    s.dest_ip = true;
    auto r = rule_for_connection(conn("2001:db8::1", 443), Action::reject,
                                 {RuleDuration::Kind::always, {}}, s, kNow);
    REQUIRE(r);
    auto name = store.add(*r);
    REQUIRE(name);
    CHECK(d.exists(*name + ".json"));
    auto m = store.match(conn("2001:db8::1", 22));
    REQUIRE(m);
    CHECK(m->action == Action::reject);
    CHECK_FALSE(store.match(conn("2001:db8::2", 443)));
}

TEST_CASE("a scope the connection cannot fill is refused") {
    Connection c = conn();
    c.process.reset();
    CHECK_FALSE(rule_for_connection(c, Action::allow, {}, {}, kNow));
    CHECK(regexp_quote("a.b*c") == "a\\.b\\*c");
}
