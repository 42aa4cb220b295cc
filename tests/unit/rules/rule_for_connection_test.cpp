// Rules made from a prompt's answer: the scopes a connection offers, and for each the rule a
// person would write by hand, which matches the connection it came from.
#include "core/rules/rule_for_connection.h"

#include <doctest/doctest.h>

#include <algorithm>

#include "core/rules/rule_store.h"
#include "rules_helpers.h"

using namespace rules_test;
using namespace std::chrono_literals;

namespace {

Connection curl_to(std::string host, std::string ip, uint16_t port = 443) {
    Connection c = conn("93.184.216.34", port);
    c.dst = *IpAddress::parse(ip);
    c.dst_host.reset();
    if (!host.empty()) c.dst_host = host;
    copy_to_change(c.process).args = {"curl", "-sS", "https://www.example.com/"};
    return c;
}

RuleDuration always() {
    return RuleDuration{RuleDuration::Kind::always, {}};
}

std::vector<std::string> labels(const std::vector<Scope>& scopes) {
    std::vector<std::string> out;
    for (const auto& s : scopes)
        out.push_back(scope_label(s));
    return out;
}

// A hand-written rule file, as the built rule must be (created/updated are the store's).
Rule by_hand(const std::string& text) {
    auto r = parse_rule(text, "by-hand.json");
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    return *r;
}

Rule without_times(Rule r) {
    r.created.clear();
    r.updated.clear();
    return r;
}

bool matches(const Rule& r, const Connection& c) {
    auto o = CompiledOperator::compile(r.op, test_context(), "operator");
    REQUIRE_MESSAGE(o, (o ? "" : o.error().message));
    MatchInput in(c, nullptr);
    return o->match(in);
}

}  // namespace

TEST_CASE("a connection with process and host offers every scope, executable first") {
    const auto scopes = scopes_for(curl_to("www.example.com", "93.184.216.34"));
    CHECK(labels(scopes) ==
          std::vector<std::string>{"this executable", "this command line", "destination host",
                                   "*.example.com", "destination IP", "destination network",
                                   "destination port", "this user", "executable + host",
                                   "executable + IP", "executable + port"});
}

TEST_CASE("each parent domain level is offered") {
    const auto scopes = scopes_for(curl_to("a.cdn.example.com.", "93.184.216.34"));
    CHECK(labels(scopes)[3] == "*.cdn.example.com");
    CHECK(labels(scopes)[4] == "*.example.com");
    CHECK(labels(scopes)[5] == "destination IP");
}

TEST_CASE("a country's registry suffix is not offered as a domain") {
    const auto l = labels(scopes_for(curl_to("cdn.example.co.uk", "93.184.216.34")));
    CHECK(std::find(l.begin(), l.end(), "*.example.co.uk") != l.end());
    CHECK(std::find(l.begin(), l.end(), "*.co.uk") == l.end());
    const auto two = labels(scopes_for(curl_to("example.com", "93.184.216.34")));
    CHECK(two[3] == "*.example.com");  // a two-label host covers itself and below
}

TEST_CASE("scopes whose data is unknown are not offered") {
    Connection c = curl_to("", "10.0.2.2", 53);
    c.process.reset();
    CHECK(labels(scopes_for(c)) == std::vector<std::string>{"destination IP", "destination network",
                                                            "destination port", "this user"});
    c.uid.reset();
    CHECK(labels(scopes_for(c)) ==
          std::vector<std::string>{"destination IP", "destination network", "destination port"});
    Connection ping = curl_to("example.com", "93.184.216.34");
    ping.protocol = Protocol::icmp;
    for (const auto& l : labels(scopes_for(ping)))
        CHECK(l.find("port") == std::string::npos);
}

TEST_CASE("allow always for this executable is the rule a person writes by hand") {
    const Connection c = curl_to("www.example.com", "93.184.216.34");
    const Rule r = build_rule(c, {ScopeKind::executable, {}}, Action::allow, always());
    CHECK(r == by_hand(R"({
      "name": "allow-always-simple-usrbincurl",
      "description": "this executable: /usr/bin/curl",
      "enabled": true, "precedence": false, "nolog": false,
      "action": "allow", "duration": "always",
      "operator": {"type": "simple", "operand": "process.path", "sensitive": false,
                   "data": "/usr/bin/curl", "list": null}})"));
    // And the rule OpenSnitch's own prompt wrote for the same answer, but for the description.
    Rule opensnitch = without_times(
        by_hand(read("tests/data/rules/opensnitch/allow-always-simple-usrbincurl.json")));
    opensnitch.description = r.description;
    CHECK(r == opensnitch);
    // Written out and read back, it is the same rule.
    CHECK(without_times(by_hand(rule_to_json(r))) == r);
}

TEST_CASE("executable + host is a list rule with OpenSnitch's data copy") {
    const Connection c = curl_to("www.example.com", "93.184.216.34");
    const Rule r = build_rule(c, {ScopeKind::executable_host, {}}, Action::deny,
                              RuleDuration{RuleDuration::Kind::timed, 5min});
    CHECK(r == by_hand(R"({
      "name": "deny-5m-list-usrbincurl-www.example.com",
      "description": "executable + host: /usr/bin/curl + www.example.com",
      "enabled": true, "precedence": false, "nolog": false,
      "action": "deny", "duration": "5m",
      "operator": {"type": "list", "operand": "list", "sensitive": false,
        "data": "[{\"type\": \"simple\", \"operand\": \"process.path\", \"sensitive\": false, \"data\": \"/usr/bin/curl\"}, {\"type\": \"simple\", \"operand\": \"dest.host\", \"sensitive\": false, \"data\": \"www.example.com\"}]",
        "list": [
          {"type": "simple", "operand": "process.path", "sensitive": false, "data": "/usr/bin/curl", "list": null},
          {"type": "simple", "operand": "dest.host", "sensitive": false, "data": "www.example.com", "list": null}]}})"));
    CHECK(matches(r, c));
    CHECK_FALSE(matches(r, curl_to("www.example.org", "93.184.216.34")));
}

TEST_CASE("executable + port is the shipped resolver rule, data copy included") {
    Connection c = curl_to("", "10.0.2.3", 53);
    c.protocol = Protocol::udp;
    copy_to_change(c.process).path = "/usr/lib/systemd/systemd-resolved";
    const Rule shipped = by_hand(read("data/rules/000-allow-dns-resolver.json"));
    const Rule r = build_rule(c, {ScopeKind::executable_port, {}}, Action::allow, always());
    CHECK(r.op == shipped.op);
    CHECK(r.name == "allow-always-list-usrlibsystemdsystemd-resolved-53");
}

TEST_CASE("*.example.com is a regexp on dest.host that matches the domain and below") {
    const Connection c = curl_to("api.example.com", "93.184.216.34");
    const Rule r = build_rule(c, {ScopeKind::domain, "example.com"}, Action::allow, always());
    CHECK(r.op == regexp("dest.host", "^(|.*\\.)example\\.com$"));
    CHECK(r.name == "allow-always-regexp-example.com");
    CHECK(matches(r, c));
    CHECK(matches(r, curl_to("example.com", "1.1.1.1")));
    CHECK(matches(r, curl_to("v2.api.example.com", "1.1.1.1")));
    CHECK_FALSE(matches(r, curl_to("apixexample.com", "1.1.1.1")));
    CHECK_FALSE(matches(r, curl_to("example.com.evil", "1.1.1.1")));
}

TEST_CASE("networks are the /24 of IPv4 and the /64 of IPv6") {
    const Rule v4 =
        build_rule(curl_to("", "10.0.2.77"), {ScopeKind::network, {}}, Action::reject, always());
    CHECK(v4.op == op(OperatorType::network, "dest.network", "10.0.2.0/24"));
    CHECK(matches(v4, curl_to("", "10.0.2.200")));
    CHECK_FALSE(matches(v4, curl_to("", "10.0.3.1")));
    const Rule v6 = build_rule(curl_to("", "2001:db8:1:2:3::4"), {ScopeKind::network, {}},
                               Action::allow, always());
    CHECK(v6.op.data == "2001:db8:1:2::/64");
}

TEST_CASE("IP, port, user and command line rules carry the connection's values") {
    Connection c = curl_to("www.example.com", "::ffff:10.0.2.2", 8443);
    CHECK(build_rule(c, {ScopeKind::ip, {}}, Action::allow, always()).op ==
          simple("dest.ip", "10.0.2.2"));
    CHECK(build_rule(c, {ScopeKind::port, {}}, Action::allow, always()).op ==
          simple("dest.port", "8443"));
    CHECK(build_rule(c, {ScopeKind::user, {}}, Action::allow, always()).op ==
          simple("user.id", "1000"));
    CHECK(build_rule(c, {ScopeKind::command_line, {}}, Action::allow, always()).op ==
          simple("process.command", "curl -sS https://www.example.com/"));
    const Rule ep = build_rule(c, {ScopeKind::executable_port, {}}, Action::allow,
                               RuleDuration{RuleDuration::Kind::until_restart, {}});
    CHECK(ep.name == "allow-until-restart-list-usrbincurl-8443");
    CHECK(describe_operator(ep.op) == "process.path == /usr/bin/curl AND dest.port == 8443");
    for (const Scope& s : scopes_for(c)) {
        INFO(scope_label(s));
        CHECK(matches(build_rule(c, s, Action::allow, always()), c));
    }
}

TEST_CASE("a user rule names the uid the kernel gave, the one rules compare") {
    Connection c = curl_to("www.example.com", "93.184.216.34");
    c.uid = 0;  // a setuid program: the socket is root's
    const Rule r = build_rule(c, {ScopeKind::user, {}}, Action::allow, always());
    CHECK(r.op == simple("user.id", "0"));
    CHECK(matches(r, c));
}

TEST_CASE("a rule made from a connection is added and decides that connection") {
    ScratchDir d;
    RuleStoreOptions o;
    o.dir = d.path;
    o.compile = test_context();
    RuleStore store(o);
    const Rule r =
        build_rule(conn("2001:db8::1", 443), {ScopeKind::ip, {}}, Action::reject, always());
    CHECK(check_rule_name(r.name));
    auto name = store.add(r);
    REQUIRE(name);
    CHECK(d.exists(*name + ".json"));
    // The builder leaves the times to the store, which stamps them when it writes the file.
    CHECK(r.created.empty());
    const Rule stored = by_hand(read(d.file(*name + ".json")));
    CHECK(parse_rfc3339(stored.created));
    CHECK(without_times(stored) == r);
    auto m = store.match(conn("2001:db8::1", 22));
    REQUIRE(m);
    CHECK(m->action == Action::reject);
    CHECK_FALSE(store.match(conn("2001:db8::2", 443)));
}

TEST_CASE("rule names are safe file names, as OpenSnitch makes them") {
    CHECK(slugify("Allow always simple /usr/bin/x y") == "allow-always-simple-usrbinx-y");
    CHECK(slugify("../../etc/passwd") == "etcpasswd");
    CHECK(slugify("\x1b[2J") == "2j");
    CHECK(slugify(std::string(300, 'a')).size() == 100);
    CHECK(slugify("///") == "rule");
    CHECK(slugify("a . b") == "a-b");
    for (const char* text : {"..", "./x", "-a-", "x/../..", "\xc3\xa9t\xc3\xa9"})
        CHECK(check_rule_name(slugify(text)));
}

TEST_CASE("regexp_quote makes any name literal") {
    CHECK(regexp_quote("a.b*c") == "a\\.b\\*c");
    CHECK(regexp_quote("my-host_1") == "my-host_1");
}

TEST_CASE("the user scope shows the user's name beside the uid the rule compares") {
    Connection c = curl_to("www.example.com", "93.184.216.34");
    copy_to_change(c.process).uid = 1000;
    copy_to_change(c.process).user = "alice";
    CHECK(scope_value(c, {ScopeKind::user, {}}) == "alice (1000)");
    CHECK(build_rule(c, {ScopeKind::user, {}}, Action::allow, always()).op ==
          simple("user.id", "1000"));
    copy_to_change(c.process).user.clear();  // a uid without a name
    CHECK(scope_value(c, {ScopeKind::user, {}}) == "1000");
    copy_to_change(c.process).user = "alice";
    c.uid = 0;  // the socket is root's: alice's name would be wrong
    CHECK(scope_value(c, {ScopeKind::user, {}}) == "0");
}
