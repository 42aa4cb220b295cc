#include "tui/view_model.h"

#include <doctest/doctest.h>

using namespace tsnitch;
using namespace tsnitch::tui;

namespace {

DecisionEvent event(Action a, std::string comm, std::string host, uint16_t port,
                    std::string user = "alice", std::string rule = "") {
    DecisionEvent e;
    e.action = a;
    e.connection.protocol = Protocol::tcp;
    e.connection.dst = *IpAddress::parse("10.0.2.2");
    e.connection.dst_port = port;
    if (!host.empty()) e.connection.dst_host = host;
    ProcessInfo p;
    p.comm = comm;
    p.path = "/usr/bin/" + comm;
    p.user = user;
    e.connection.process = std::make_shared<const ProcessInfo>(p);
    if (!rule.empty()) {
        e.rule = rule;
        e.reason = Reason::rule;
    }
    return e;
}

}  // namespace

TEST_CASE("the event log keeps the newest events and lists them newest first") {
    EventLog log(3);
    log.add({event(Action::allow, "a", "h1", 1), event(Action::allow, "b", "h2", 2)});
    log.add({event(Action::deny, "c", "h3", 3), event(Action::deny, "d", "h4", 4)});
    CHECK(log.size() == 3);
    const auto rows = log.filtered("");
    REQUIRE(rows.size() == 3);
    CHECK(event_process(*rows[0]) == "d");
    CHECK(event_process(*rows[2]) == "b");
}

TEST_CASE("the filter matches process, host, port, action and rule, ignoring case") {
    EventLog log(100);
    log.add({event(Action::allow, "curl", "Example.COM", 443),
             event(Action::deny, "firefox", "tracker.example", 80, "bob", "deny-trackers"),
             event(Action::allow, "ssh", "", 22)});
    CHECK(log.filtered("example.com").size() == 1);
    CHECK(log.filtered("EXAMPLE").size() == 2);
    CHECK(log.filtered("deny").size() == 1);
    CHECK(log.filtered(":22").size() == 1);
    CHECK(log.filtered("bob").size() == 1);
    CHECK(log.filtered("trackers").size() == 1);
    CHECK(log.filtered("nothing-like-this").empty());
}

TEST_CASE("rows show the host when known, else the address, with the port") {
    CHECK(event_destination(event(Action::allow, "x", "example.com", 443)) == "example.com:443");
    CHECK(event_destination(event(Action::allow, "x", "", 53)) == "10.0.2.2:53");
    DecisionEvent v6 = event(Action::allow, "x", "", 53);
    v6.connection.dst = *IpAddress::parse("2001:db8::1");
    CHECK(event_destination(v6) == "[2001:db8::1]:53");
    CHECK(event_rule(event(Action::deny, "x", "", 1)) == "(default)");
    CHECK(event_rule(event(Action::deny, "x", "", 1, "u", "r1")) == "r1");
}

TEST_CASE("stats count per host, process, port and user, most first, with blocked counts") {
    EventLog log(100);
    for (int i = 0; i < 3; ++i)
        log.add({event(Action::allow, "curl", "example.com", 443)});
    log.add({event(Action::deny, "curl", "tracker.example", 443, "bob")});
    log.add({event(Action::reject, "wget", "tracker.example", 80, "bob")});
    log.add({event(Action::allow, "ssh", "", 22)});
    const StatsTables t = compute_stats(log, 2);
    REQUIRE(t.hosts.size() == 2);
    CHECK(t.hosts[0].key == "example.com");
    CHECK(t.hosts[0].count == 3);
    CHECK(t.hosts[1].key == "tracker.example");
    CHECK(t.hosts[1].blocked == 2);
    CHECK(t.processes[0].key == "/usr/bin/curl");
    CHECK(t.processes[0].count == 4);
    CHECK(t.ports[0].key == "443/tcp");
    CHECK(t.ports[0].count == 4);
    CHECK(t.users[0].key == "alice");
    CHECK(t.users[1].key == "bob");
    CHECK(t.users[1].blocked == 2);
}

TEST_CASE("rules are listed by name, as they are evaluated") {
    std::vector<RuleSummary> r(3);
    r[0].name = "b";
    r[1].name = "000-first";
    r[2].name = "a";
    const auto s = sorted_rules(r);
    CHECK(s[0].name == "000-first");
    CHECK(s[1].name == "a");
    CHECK(s[2].name == "b");
}

TEST_CASE("rules sorted by hits: most used first, ties by name") {
    std::vector<RuleSummary> r(3);
    r[0].name = "b";
    r[0].hits = 5;
    r[1].name = "c";
    r[1].hits = 40;
    r[2].name = "a";
    r[2].hits = 5;
    const auto s = sorted_rules(r, RuleOrder::hits);
    CHECK(s[0].name == "c");
    CHECK(s[1].name == "a");
    CHECK(s[2].name == "b");
}

TEST_CASE("pending prompts are answered oldest first, skipping those already answered") {
    std::vector<PendingPrompt> p(3);
    const auto t = std::chrono::system_clock::now();
    p[0].id = 5;
    p[0].opened = t + std::chrono::seconds(2);
    p[1].id = 9;
    p[1].opened = t;
    p[2].id = 3;
    p[2].opened = t + std::chrono::seconds(1);
    auto q = prompt_queue(p, {});
    REQUIRE(q.size() == 3);
    CHECK(q[0].id == 9);
    CHECK(q[1].id == 3);
    CHECK(q[2].id == 5);
    q = prompt_queue(p, {9});
    REQUIRE(q.size() == 2);
    CHECK(q[0].id == 3);
}

TEST_CASE("columns: each gets what its texts need when all fit, the last the rest") {
    CHECK(fit_columns({10, 20, 30}, {5, 5, 5}, 80) == std::vector<int>{10, 20, 50});
    CHECK(fit_columns({10, 20, 30}, {5, 5, 5}, 60) == std::vector<int>{10, 20, 30});
}

TEST_CASE("columns: when they do not fit the widest are cut first, not a fixed share") {
    // A long rule name beside short process and destination texts keeps most of its width.
    CHECK(fit_columns({8, 20, 60}, {8, 10, 4}, 71) == std::vector<int>{8, 20, 43});
    // Two long ones are cut to the same width; the short one keeps its own.
    CHECK(fit_columns({8, 50, 50}, {8, 10, 4}, 71) == std::vector<int>{8, 32, 31});
    // Never below the minimums, even when those do not fit.
    CHECK(fit_columns({30, 30, 30}, {8, 10, 4}, 10) == std::vector<int>{8, 10, 4});
    CHECK(fit_columns({}, {}, 10).empty());
}
