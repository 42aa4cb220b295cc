// The Daemon with a fake queue and attributor and a real Engine and RuleStore: what front ends
// see (a Snapshot, then deltas), several front ends at once, the review list, and a front end
// that stops reading.
#include <doctest/doctest.h>

#include <poll.h>
#include <stdlib.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "../engine/engine_fakes.h"
#include "core/daemon/daemon.h"
#include "core/daemon/in_process_link.h"
#include "core/rules/rule.h"

using namespace tsnitch;
using namespace std::chrono_literals;
using test::FakeAttributor, test::FakeSink;

namespace {

Rule port_rule(const std::string& name, Action action, uint16_t port) {
    Rule r;
    r.name = name;
    r.action = action;
    r.op.type = OperatorType::simple;
    r.op.operand = "dest.port";
    r.op.data = std::to_string(port);
    r.duration = {RuleDuration::Kind::until_restart, {}};  // in memory: the store has no directory
    return r;
}

struct Fixture {
    explicit Fixture(DaemonOptions o = options()) : rules(RuleStoreOptions{}) {
        daemon = std::make_unique<Daemon>(o, sink, attributor, rules, nullptr, processes);
        REQUIRE(daemon->start());
    }
    static DaemonOptions options() {
        DaemonOptions o;
        o.status.intercepting = true;
        o.engine.prompt_timeout_s = 60;
        return o;
    }
    void packet(uint32_t id, uint16_t sport, uint16_t dport) {
        const auto bytes = test::tcp(sport, dport);
        QueuedPacket p;
        p.id = id;
        p.bytes = bytes;
        daemon->on_packet(p);
    }
    FakeSink sink;
    FakeAttributor attributor;
    RuleStore rules;
    ProcessModel processes{ProcessModel::Options{.warm_index = false}};
    std::unique_ptr<Daemon> daemon;
};

// What one front end received, read as it arrives.
struct Client {
    explicit Client(Daemon& d) : link(d) {}
    // Reads until `pred` holds for the events so far (up to 5 s).
    template <class Pred>
    bool wait_for(Pred pred) {
        const auto end = std::chrono::steady_clock::now() + 5s;
        while (!pred()) {
            if (std::chrono::steady_clock::now() > end) return false;
            pollfd pfd{link.wake_fd(), POLLIN, 0};
            ::poll(&pfd, 1, 100);
            for (auto& e : link.drain())
                events.push_back(std::move(e));
        }
        return true;
    }
    void pump() {
        for (auto& e : link.drain())
            events.push_back(std::move(e));
    }
    template <class T>
    std::vector<T> all() const {
        std::vector<T> out;
        for (const auto& e : events)
            if (const T* t = std::get_if<T>(&e)) out.push_back(*t);
        return out;
    }
    template <class T>
    bool has(size_t n = 1) {
        return wait_for([&] { return all<T>().size() >= n; });
    }
    InProcessLink link;
    std::vector<DaemonEvent> events;
};

}  // namespace

TEST_CASE("a front end gets a Snapshot first, then a prompt, and its answer decides the packets") {
    Fixture f;
    Client c(*f.daemon);
    REQUIRE(c.has<Snapshot>());
    CHECK(std::holds_alternative<Snapshot>(c.events.front()));
    CHECK(c.all<Snapshot>()[0].status.clients == 1);
    f.packet(1, 1000, 443);
    REQUIRE(c.has<PromptOpened>());
    const PromptRecord p = c.all<PromptOpened>()[0].prompt;
    CHECK(p.connection.process->path == "/usr/bin/curl");
    CHECK(p.remaining > 50s);
    f.packet(2, 1001, 443);  // the same program to the same destination: joins the prompt
    REQUIRE(c.has<PromptJoined>());
    CHECK(c.all<PromptJoined>()[0].joined == 1);
    c.link.send({7, AnswerPrompt{p.id, Action::allow, RuleDuration{}, std::nullopt}});
    REQUIRE(c.has<CommandResult>());
    CHECK(c.all<CommandResult>()[0].request == 7);
    CHECK(c.all<CommandResult>()[0].error.empty());
    REQUIRE(c.has<PromptClosed>());
    CHECK(c.all<PromptClosed>()[0].reason == Reason::prompt);
    CHECK(f.sink.wait(1) == Verdict::allow);
    CHECK(f.sink.wait(2) == Verdict::allow);
    REQUIRE(c.has<DecisionMade>());
    CHECK(c.wait_for([&] {
        auto s = c.all<StatusChanged>();
        return !s.empty() && s.back().status.allowed == 1 && s.back().status.prompts_open == 0;
    }));
}

TEST_CASE("with two front ends a prompt goes to both; the first answer wins") {
    Fixture f;
    Client a(*f.daemon), b(*f.daemon);
    f.packet(1, 1000, 443);
    REQUIRE(a.has<PromptOpened>());
    REQUIRE(b.has<PromptOpened>());
    const uint64_t id = a.all<PromptOpened>()[0].prompt.id;
    a.link.send({1, AnswerPrompt{id, Action::deny, RuleDuration{}, std::nullopt}});
    b.link.send({1, AnswerPrompt{id, Action::allow, RuleDuration{}, std::nullopt}});
    REQUIRE(b.has<CommandResult>());
    CHECK_FALSE(b.all<CommandResult>()[0].error.empty());
    REQUIRE(a.has<PromptClosed>());
    REQUIRE(b.has<PromptClosed>());
    CHECK(b.all<PromptClosed>()[0].action == Action::deny);
    CHECK(f.sink.wait(1) == Verdict::deny);
}

TEST_CASE("a front end that attaches late sees the open prompt, the recent decisions and hits") {
    Fixture f;
    REQUIRE(f.rules.add(port_rule("allow-80", Action::allow, 80)));
    f.packet(1, 1000, 80);
    f.packet(2, 1001, 80);
    f.packet(3, 1002, 443);
    REQUIRE(f.sink.wait(2) == Verdict::allow);
    Client first(*f.daemon);
    REQUIRE(first.wait_for([&] {
        const auto snaps = first.all<Snapshot>();
        return (!snaps.empty() && !snaps[0].prompts.empty()) || !first.all<PromptOpened>().empty();
    }));
    Client c(*f.daemon);
    REQUIRE(c.has<Snapshot>());
    const Snapshot s = c.all<Snapshot>()[0];
    REQUIRE(s.prompts.size() == 1);
    CHECK(s.prompts[0].connection.dst_port == 443);
    CHECK(s.status.clients == 2);
    REQUIRE(s.rules.size() == 1);
    CHECK(s.rules[0].hits == 2);
    CHECK(s.recent.size() == 2);
    CHECK(s.status.allowed == 2);
    CHECK(s.status.rule_count == 1);
}

TEST_CASE("an answer that makes a rule stores it; every front end gets the new rule list") {
    Fixture f;
    Client a(*f.daemon), b(*f.daemon);
    f.packet(1, 1000, 443);
    REQUIRE(a.has<PromptOpened>());
    const uint64_t id = a.all<PromptOpened>()[0].prompt.id;
    const RuleDuration until_restart{RuleDuration::Kind::until_restart, {}};
    a.link.send({3, AnswerPrompt{id, Action::allow, until_restart,
                                 port_rule("allow-443", Action::deny, 443)}});
    REQUIRE(a.has<CommandResult>());
    CHECK(a.all<CommandResult>()[0].error == "");
    REQUIRE(b.has<RulesChanged>());
    REQUIRE(b.all<RulesChanged>()[0].rules.size() == 1);
    CHECK(b.all<RulesChanged>()[0].rules[0].rule.action == Action::allow);  // as answered
    CHECK(f.sink.wait(1) == Verdict::allow);
    REQUIRE(b.has<PromptClosed>());
    CHECK(b.all<PromptClosed>()[0].rule == "allow-443");
    // The rule now decides without a prompt, and counts a hit.
    f.packet(2, 2000, 443);
    CHECK(f.sink.wait(2) == Verdict::allow);
    b.link.send({4, DeleteRule{"allow-443"}});
    REQUIRE(b.has<RulesChanged>(2));
    CHECK(b.all<RulesChanged>()[1].rules.empty());
    b.link.send({5, DeleteRule{"allow-443"}});
    REQUIRE(b.wait_for([&] { return b.all<CommandResult>().size() >= 2; }));
    CHECK_FALSE(b.all<CommandResult>()[1].error.empty());
}

TEST_CASE("with nobody attached a prompt waits PromptTimeout; the next front end can review it") {
    DaemonOptions o = Fixture::options();
    o.engine.prompt_timeout_s = 1;
    o.engine.default_action = Action::reject;
    o.review_max = 2;
    Fixture f(o);
    for (uint16_t i = 0; i < 3; ++i)
        f.packet(i + 1, uint16_t(1000 + i), uint16_t(8000 + i));
    // Not decided at once: it waits for a person.
    CHECK(f.sink.count() == 0);
    REQUIRE(f.sink.wait(1) == Verdict::reject);
    REQUIRE(f.sink.wait(3) == Verdict::reject);
    f.daemon->engine().flush_observers();  // the verdicts go first, the Daemon hears after
    Client c(*f.daemon);
    REQUIRE(c.has<Snapshot>());
    const auto review = c.all<Snapshot>()[0].review;
    REQUIRE(review.size() == 2);  // bounded: the oldest went
    CHECK(review[0].event.reason == Reason::timeout);
    CHECK(review[0].event.connection.dst_port == 8001);
    c.link.send({9, DismissReview{review[0].id}});
    REQUIRE(c.has<ReviewRemoved>());
    CHECK(c.all<ReviewRemoved>()[0].id == review[0].id);
    Client later(*f.daemon);
    REQUIRE(later.has<Snapshot>());
    CHECK(later.all<Snapshot>()[0].review.size() == 1);
}

TEST_CASE("a front end that stops reading is detached; the firewall goes on deciding") {
    DaemonOptions o = Fixture::options();
    o.outbox_max = 8;
    Fixture f(o);
    REQUIRE(f.rules.add(port_rule("allow-80", Action::allow, 80)));
    Daemon::Subscription stalled = f.daemon->subscribe();
    Client reading(*f.daemon);
    for (uint32_t i = 0; i < 50; ++i) {
        f.packet(i + 1, uint16_t(1000 + i), 80);
        REQUIRE(f.sink.wait(i + 1) == Verdict::allow);
        f.daemon->engine().flush_observers();  // one decision at a time, as the reader reads
        reading.pump();
    }
    REQUIRE(stalled.outbox->closed());
    const auto left = stalled.outbox->drain();
    REQUIRE(left.size() == 1);
    CHECK(std::holds_alternative<Stopping>(left[0]));
    CHECK(f.daemon->subscribers() == 1);  // the one that reads stays
}

TEST_CASE("too many open prompts: the rest get DefaultAction at once, counted and logged") {
    DaemonOptions o = Fixture::options();
    o.engine.max_open_prompts = 3;
    o.engine.default_action = Action::deny;
    Fixture f(o);
    Client c(*f.daemon);
    for (uint16_t i = 0; i < 10; ++i)
        f.packet(i + 1, uint16_t(1000 + i), uint16_t(9000 + i));
    for (uint32_t i = 4; i <= 10; ++i)
        REQUIRE(f.sink.wait(i) == Verdict::deny);
    REQUIRE(c.has<PromptOpened>(3));
    REQUIRE(c.has<LogAppended>());
    CHECK(c.wait_for([&] {
        auto s = c.all<StatusChanged>();
        return !s.empty() && s.back().status.over_limit == 7 && s.back().status.prompts_open == 3;
    }));
    CHECK(c.all<PromptOpened>().size() == 3);
    // Such a refusal holds for a moment only: a retransmit after it is decided anew (here still
    // beyond the bound, so counted again), not answered from the flow cache.
    std::this_thread::sleep_for(o.engine.over_limit_memory + 100ms);
    f.packet(11, 1003, 9003);
    REQUIRE(f.sink.wait(11) == Verdict::deny);
    CHECK(c.wait_for([&] {
        auto s = c.all<StatusChanged>();
        return !s.empty() && s.back().status.over_limit == 8;
    }));
}

TEST_CASE("stopping tells every front end and decides what is pending") {
    Fixture f;
    Client c(*f.daemon);
    f.packet(1, 1000, 443);
    REQUIRE(c.has<PromptOpened>());
    f.daemon->stop("test over");
    REQUIRE(c.has<Stopping>());
    CHECK(c.all<Stopping>()[0].reason == "test over");
    CHECK(f.sink.wait(1) == Verdict::deny);
}

TEST_CASE("rule commands are refused by a daemon that does not intercept") {
    DaemonOptions o = Fixture::options();
    o.status.intercepting = false;
    Fixture f(o);
    Client c(*f.daemon);
    c.link.send({1, AddRule{port_rule("x", Action::allow, 1)}});
    REQUIRE(c.has<CommandResult>());
    CHECK(c.all<CommandResult>()[0].error.find("intercepts") != std::string::npos);
    CHECK(f.rules.rules().empty());
}

TEST_CASE("a timed rule expires on time by itself; every front end gets the shorter list") {
    Fixture f;
    Client c(*f.daemon);
    Rule r = port_rule("allow-80-1s", Action::allow, 80);
    r.duration = {RuleDuration::Kind::timed, std::chrono::seconds(1)};
    c.link.send({1, AddRule{r}});
    REQUIRE(c.has<RulesChanged>());
    REQUIRE(c.all<RulesChanged>()[0].rules.size() == 1);
    CHECK(c.all<RulesChanged>()[0].rules[0].expires.has_value());
    // Nothing else happens: the expiry timer alone brings the next change.
    REQUIRE(c.has<RulesChanged>(2));
    CHECK(c.all<RulesChanged>()[1].rules.empty());
    f.packet(1, 1000, 80);  // no rule now: a prompt
    REQUIRE(c.has<PromptOpened>());
}

TEST_CASE("a rule file written into the rules directory is picked up without a restart") {
    char dir_template[] = "/tmp/tsnitch-daemon-test-XXXXXX";
    REQUIRE(::mkdtemp(dir_template));
    const std::string dir = dir_template;
    {
        RuleStoreOptions ro;
        ro.dir = dir;
        RuleStore rules(ro);
        REQUIRE(rules.load().empty());
        REQUIRE(rules.watch());
        FakeSink sink;
        FakeAttributor attributor;
        ProcessModel processes(ProcessModel::Options{.warm_index = false});
        Daemon daemon(Fixture::options(), sink, attributor, rules, nullptr, processes);
        REQUIRE(daemon.start());
        Client c(daemon);
        Rule r = port_rule("deny-25", Action::deny, 25);
        r.duration = {RuleDuration::Kind::always, {}};
        REQUIRE(write_file_atomically(dir + "/deny-25.json", rule_to_json(r)));
        REQUIRE(c.has<RulesChanged>());
        REQUIRE(c.all<RulesChanged>()[0].rules.size() == 1);
        CHECK(c.all<RulesChanged>()[0].rules[0].rule.name == "deny-25");
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("the socket table comes only to front ends that asked, with the focus process in full") {
    Fixture f;
    Client asked(*f.daemon), other(*f.daemon);
    SubscribeSockets s;
    s.interval = 200ms;
    s.focus_pid = static_cast<int>(::getpid());
    asked.link.send({1, s});
    REQUIRE(asked.has<SocketTableUpdate>());
    const SocketTableUpdate u = asked.all<SocketTableUpdate>()[0];
    REQUIRE(u.error.empty());
    REQUIRE(u.table);
    CHECK(u.table->focus_pid == ::getpid());
    CHECK(u.table->focus.has_value());
    // A decision after it reaches both; the table reached only the one that asked.
    f.packet(1, 1000, 443);
    REQUIRE(other.has<PromptOpened>());
    CHECK(other.all<SocketTableUpdate>().empty());
}

TEST_CASE("the Log tells rules written, changed, enabled, deleted, prompt timeouts, unknown ones") {
    DaemonOptions o = Fixture::options();
    o.engine.prompt_timeout_s = 1;
    o.engine.intercept_unknown = false;
    Fixture f(o);
    Client c(*f.daemon);
    auto logged = [&](const std::string& part) {
        return c.wait_for([&] {
            for (const LogAppended& l : c.all<LogAppended>())
                if (l.line.text.find(part) != std::string::npos) return true;
            return false;
        });
    };
    c.link.send({1, AddRule{port_rule("allow-443", Action::allow, 443)}});
    CHECK(logged("rule allow-443 written: allow dest.port == 443, until restart"));
    // (until restart: the store of this test has no directory to write to)
    c.link.send(
        {2, ChangeRule{"allow-443", Action::deny, {RuleDuration::Kind::until_restart, {}}}});
    CHECK(logged("rule allow-443 changed: deny dest.port == 443, until restart"));
    c.link.send({3, EnableRule{"allow-443", false}});
    CHECK(logged("rule allow-443 disabled"));
    c.link.send({4, DeleteRule{"allow-443"}});
    CHECK(logged("rule allow-443 deleted"));
    // Nobody answers: the prompt times out (PromptTimeout 1 s) with the DefaultAction.
    f.packet(1, 1000, 8080);
    CHECK(f.sink.wait(1) == Verdict::deny);
    CHECK(logged("prompt timed out: /usr/bin/curl (42) -> 10.77.0.2:8080 tcp: deny"));
    // A connection whose process is not found: denied at once, and said.
    f.attributor.found = false;
    f.packet(2, 1001, 9090);
    CHECK(f.sink.wait(2) == Verdict::deny);
    CHECK(logged("deny (process not found): unknown process -> 10.77.0.2:9090 tcp"));
}
