#include "tui/rule_builder.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "core/json.h"

using namespace tsnitch;
using namespace tsnitch::tui;

namespace {

Connection curl_to(std::string host, std::string ip, uint16_t port = 443) {
    Connection c;
    c.protocol = Protocol::tcp;
    c.src = *IpAddress::parse("10.0.2.15");
    c.src_port = 54321;
    c.dst = *IpAddress::parse(ip);
    c.dst_port = port;
    if (!host.empty()) c.dst_host = host;
    ProcessInfo p;
    p.pid = 4321;
    p.uid = 1000;
    p.user = "alice";
    p.comm = "curl";
    p.path = "/usr/bin/curl";
    p.args = {"curl", "-sS", "https://www.example.com/"};
    p.cwd = "/home/alice";
    c.process = p;
    c.uid = 1000;
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
    Connection ping = curl_to("example.com", "93.184.216.34");
    ping.protocol = Protocol::icmp;
    for (const auto& l : labels(scopes_for(ping)))
        CHECK(l.find("port") == std::string::npos);
}

TEST_CASE("allow always for this executable is the rule a person writes by hand") {
    const Connection c = curl_to("www.example.com", "93.184.216.34");
    const RuleSpec r = build_rule(c, {ScopeKind::executable, {}}, Action::allow, always());
    CHECK(
        rule_json(r) ==
        R"({"name":"allow-always-simple-usr-bin-curl","description":"this executable: /usr/bin/curl",)"
        R"("enabled":true,"precedence":false,"nolog":false,"action":"allow","duration":"always",)"
        R"("operator":{"type":"simple","operand":"process.path","sensitive":false,)"
        R"("data":"/usr/bin/curl","list":null}})");
}

TEST_CASE("executable + host is a list rule with OpenSnitch's data copy") {
    const Connection c = curl_to("www.example.com", "93.184.216.34");
    const RuleSpec r = build_rule(c, {ScopeKind::executable_host, {}}, Action::deny,
                                  RuleDuration{RuleDuration::Kind::timed, std::chrono::minutes(5)});
    CHECK(r.name == "deny-5m-list-usr-bin-curl-www.example.com");
    CHECK(r.duration.to_string() == "5m");
    CHECK(
        rule_json(r) ==
        R"({"name":"deny-5m-list-usr-bin-curl-www.example.com","description":"executable + host: /usr/bin/curl + www.example.com",)"
        R"("enabled":true,"precedence":false,"nolog":false,"action":"deny","duration":"5m",)"
        R"("operator":{"type":"list","operand":"list","sensitive":false,)"
        R"("data":"[{\"type\": \"simple\", \"operand\": \"process.path\", \"sensitive\": false, \"data\": \"/usr/bin/curl\"}, )"
        R"({\"type\": \"simple\", \"operand\": \"dest.host\", \"sensitive\": false, \"data\": \"www.example.com\"}]",)"
        R"("list":[{"type":"simple","operand":"process.path","sensitive":false,"data":"/usr/bin/curl","list":null},)"
        R"({"type":"simple","operand":"dest.host","sensitive":false,"data":"www.example.com","list":null}]}})");
}

TEST_CASE("the list data is written exactly as in the shipped OpenSnitch rule") {
    std::ifstream in("data/rules/000-allow-dns-resolver.json");
    REQUIRE(in);
    std::stringstream ss;
    ss << in.rdbuf();
    const std::vector<RuleOperator> list = {
        {"simple", "process.path", false, "/usr/lib/systemd/systemd-resolved", {}},
        {"simple", "dest.port", false, "53", {}}};
    CHECK(ss.str().find("\"data\": " + json_quote(list_data_json(list))) != std::string::npos);
}

TEST_CASE("*.example.com is a regexp on dest.host that matches the domain and below") {
    const Connection c = curl_to("www.example.com", "93.184.216.34");
    const RuleSpec r = build_rule(c, {ScopeKind::domain, "example.com"}, Action::allow, always());
    CHECK(r.op == RuleOperator{"regexp", "dest.host", false, "^(|.*\\.)example\\.com$", {}});
    CHECK(r.name == "allow-always-regexp-example.com");
}

TEST_CASE("networks are the /24 of IPv4 and the /64 of IPv6") {
    const RuleSpec v4 =
        build_rule(curl_to("", "10.0.2.77"), {ScopeKind::network, {}}, Action::reject, always());
    CHECK(v4.op == RuleOperator{"network", "dest.network", false, "10.0.2.0/24", {}});
    const RuleSpec v6 = build_rule(curl_to("", "2001:db8:1:2:3::4"), {ScopeKind::network, {}},
                                   Action::allow, always());
    CHECK(v6.op.data == "2001:db8:1:2::/64");
}

TEST_CASE("IP, port, user and command line rules carry the connection's values") {
    Connection c = curl_to("www.example.com", "::ffff:10.0.2.2", 8443);
    CHECK(build_rule(c, {ScopeKind::ip, {}}, Action::allow, always()).op ==
          RuleOperator{"simple", "dest.ip", false, "10.0.2.2", {}});
    CHECK(build_rule(c, {ScopeKind::port, {}}, Action::allow, always()).op ==
          RuleOperator{"simple", "dest.port", false, "8443", {}});
    CHECK(build_rule(c, {ScopeKind::user, {}}, Action::allow, always()).op ==
          RuleOperator{"simple", "user.id", false, "1000", {}});
    CHECK(
        build_rule(c, {ScopeKind::command_line, {}}, Action::allow, always()).op ==
        RuleOperator{"simple", "process.command", false, "curl -sS https://www.example.com/", {}});
    const RuleSpec ep = build_rule(c, {ScopeKind::executable_port, {}}, Action::allow,
                                   RuleDuration{RuleDuration::Kind::until_restart, {}});
    CHECK(ep.name == "allow-until-restart-list-usr-bin-curl-8443");
    CHECK(operator_summary(ep.op) == "process.path = /usr/bin/curl & dest.port = 8443");
}

TEST_CASE("rule names are safe file names") {
    CHECK(slugify("Allow always simple /usr/bin/x y") == "allow-always-simple-usr-bin-x-y");
    CHECK(slugify("../../etc/passwd") == "etc-passwd");
    CHECK(slugify("\x1b[2J") == "2j");
    CHECK(slugify(std::string(300, 'a')).size() == 100);
    CHECK(slugify("///") == "rule");
}

TEST_CASE("operator summaries read as one line") {
    CHECK(operator_summary({"regexp", "dest.host", false, "^(|.*\\.)example\\.com$", {}}) ==
          "dest.host ~ ^(|.*\\.)example\\.com$");
    CHECK(operator_summary({"network", "dest.network", false, "10.0.0.0/8", {}}) ==
          "dest.network in 10.0.0.0/8");
}
