// The engine with a fake queue, attributor and rules: what a user sees of a connection (verdict,
// event, prompt) for each way a decision can go.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include "core/engine/engine.h"
#include "core/engine/events_file.h"
#include "core/packet/packet.h"
#include "engine_fakes.h"

using namespace tsnitch;
using namespace std::chrono_literals;
using test::FakeSink, test::ipv4, test::tcp, test::udp, test::kSyn, test::kRst, test::kAck;

namespace {

// Source port 1000..1999 belongs to pid 42 (/usr/bin/curl); anything else is unknown.
struct CurlAttributor : test::FakeAttributor {
    CurlAttributor() {
        first_port = 1000;
        last_port = 1999;
    }
};

struct FakeRules : RuleMatcher {
    std::function<std::optional<RuleMatch>(const Connection&)> fn = [](const Connection&) {
        return std::optional<RuleMatch>();
    };
    std::function<std::optional<RuleMatch>(const Connection&)> without = [](const Connection&) {
        return std::optional<RuleMatch>();
    };
    std::optional<RuleMatch> match(const Connection& c) override { return fn(c); }
    std::optional<RuleMatch> match_without_process(const Connection& c) override {
        return without(c);
    }
};

struct FakeNames : HostNames {
    std::mutex mu;
    std::vector<std::vector<uint8_t>> learned;
    void learn(const PacketInfo& info, std::span<const uint8_t>) override {
        std::lock_guard l(mu);
        learned.emplace_back(info.payload.begin(), info.payload.end());
    }
    std::optional<std::string> host_for(const IpAddress&) override { return "peer.example"; }
};

struct Recorder : EngineObserver {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<DecisionEvent> events;
    std::vector<Prompt> opened;
    std::vector<uint64_t> closed;
    void on_decision(const DecisionEvent& e, bool) override {
        std::lock_guard l(mu);
        events.push_back(e);
        cv.notify_all();
    }
    void on_prompt_opened(const Prompt& p) override {
        std::lock_guard l(mu);
        opened.push_back(p);
        cv.notify_all();
    }
    void on_prompt_closed(uint64_t id, Action, Reason, const std::optional<std::string>&) override {
        std::lock_guard l(mu);
        closed.push_back(id);
    }
    bool wait_prompts(size_t n) {
        std::unique_lock l(mu);
        return cv.wait_for(l, 5s, [&] { return opened.size() >= n; });
    }
    size_t event_count() {
        std::lock_guard l(mu);
        return events.size();
    }
};

struct Fixture {
    FakeSink sink;
    CurlAttributor attributor;
    FakeRules rules;
    FakeNames names;
    Recorder rec;
    std::unique_ptr<Engine> engine;

    explicit Fixture(EngineOptions o = {}) {
        engine = std::make_unique<Engine>(o, sink, attributor, rules, &names);
        engine->add_observer(&rec);
        engine->start();
    }
    void packet(uint32_t id, const std::vector<uint8_t>& bytes, bool inbound = false) {
        QueuedPacket p;
        p.id = id;
        p.bytes = bytes;
        p.inbound = inbound;
        p.uid = 1000;
        engine->on_packet(p);
    }
};

RuleMatch rule(Action a, std::string name) {
    return {a, std::move(name), false};
}

// Prompting, with at most `max_pending` held packets and no reserve beyond them (the bound
// alone) unless `reserve` says.
EngineOptions bounded(size_t max_pending, Action default_action = Action::deny,
                      size_t reserve = 0) {
    EngineOptions o;
    o.interactive = true;
    o.max_pending_packets = max_pending;
    o.fair_reserve_packets = reserve;
    o.default_action = default_action;
    return o;
}

}  // namespace

TEST_CASE("a connection that a rule allows is accepted and logged with the rule's name") {
    Fixture f;
    f.rules.fn = [](const Connection& c) -> std::optional<RuleMatch> {
        if (c.process && c.process->path == "/usr/bin/curl" && c.dst_port == 80)
            return rule(Action::allow, "allow-curl");
        return std::nullopt;
    };
    f.packet(1, tcp(1001, 80));
    CHECK(f.sink.wait(1) == Verdict::allow);
    f.engine->stop();
    REQUIRE(f.rec.events.size() == 1);
    const auto& e = f.rec.events[0];
    CHECK(e.action == Action::allow);
    CHECK(e.reason == Reason::rule);
    CHECK(e.rule == "allow-curl");
    CHECK(e.connection.dst_port == 80);
    CHECK(e.connection.src_port == 1001);
    CHECK(e.connection.process->pid == 42);
    CHECK(e.connection.dst_host == "peer.example");
    CHECK(e.connection.uid == 1000u);
    CHECK(e.method == Method::diag);
    CHECK(e.path == DecisionPath::queue);
}

TEST_CASE("deny and reject rules give drop and reject verdicts") {
    Fixture f;
    f.rules.fn = [](const Connection& c) -> std::optional<RuleMatch> {
        return rule(c.dst_port == 1 ? Action::deny : Action::reject, "r");
    };
    f.packet(1, tcp(1001, 1));
    f.packet(2, udp(1002, 2));
    CHECK(f.sink.wait(1) == Verdict::deny);
    CHECK(f.sink.wait(2) == Verdict::reject);
}

TEST_CASE("headless: a connection no rule decides gets DefaultAction with reason default") {
    EngineOptions o;
    o.default_action = Action::reject;
    Fixture f(o);
    f.packet(7, tcp(1001, 443));
    CHECK(f.sink.wait(7) == Verdict::reject);
    f.engine->stop();
    REQUIRE(f.rec.events.size() == 1);
    CHECK(f.rec.events[0].reason == Reason::default_action);
    CHECK(f.rec.opened.empty());
}

TEST_CASE("a connection whose process is unknown gets DefaultAction, reason unknown-process") {
    EngineOptions o;
    o.default_action = Action::allow;
    o.interactive = true;
    Fixture f(o);
    f.packet(3, tcp(5555, 443));
    CHECK(f.sink.wait(3) == Verdict::allow);
    f.engine->stop();
    REQUIRE(f.rec.events.size() == 1);
    CHECK(f.rec.events[0].reason == Reason::unknown_process);
    CHECK_FALSE(f.rec.events[0].connection.process != nullptr);
    CHECK(f.rec.opened.empty());
}

TEST_CASE("SYN retransmits and further datagrams of a decided flow reuse the verdict silently") {
    Fixture f;
    f.rules.fn = [](const Connection&) { return std::optional(rule(Action::deny, "d")); };
    f.packet(1, tcp(1001, 80));
    REQUIRE(f.sink.wait(1) == Verdict::deny);
    f.packet(2, tcp(1001, 80));
    CHECK(f.sink.wait(2) == Verdict::deny);
    for (uint32_t id = 10; id < 110; ++id)
        f.packet(id, udp(1500, 9999));
    for (uint32_t id = 10; id < 110; ++id)
        CHECK(f.sink.wait(id) == Verdict::deny);
    f.engine->stop();
    CHECK(f.rec.events.size() == 2);  // one for the TCP flow, one for the UDP flow
    CHECK(f.attributor.calls == 2);
}

TEST_CASE("after the rules change, a decided 5-tuple is decided again by the new rules") {
    // A new connection may reuse the ports of one decided a moment ago (bind, or the kernel
    // handing the port out again): the verdict cached for the old rules must not answer it.
    Fixture f;
    f.rules.fn = [](const Connection&) { return std::optional(rule(Action::allow, "a")); };
    f.packet(1, tcp(1001, 80));
    REQUIRE(f.sink.wait(1) == Verdict::allow);
    f.rules.fn = [](const Connection&) { return std::optional(rule(Action::reject, "r")); };
    f.engine->rules_changed();
    f.packet(2, tcp(1001, 80));
    CHECK(f.sink.wait(2) == Verdict::reject);
    f.engine->stop();
    REQUIRE(f.rec.events.size() == 2);
    CHECK(f.rec.events[1].rule == "r");
}

TEST_CASE("a new connection on the ports of a decided one is decided for itself") {
    // Another process may bind the ports an allowed connection had a moment ago: its SYN has
    // another sequence number than the allowed one's retransmits, and meets the rules itself.
    Fixture f;
    int calls = 0;
    f.rules.fn = [&calls](const Connection&) {
        return std::optional(rule(++calls == 1 ? Action::allow : Action::reject, "r"));
    };
    f.packet(1, tcp(1001, 80, kSyn, 7));
    REQUIRE(f.sink.wait(1) == Verdict::allow);
    f.packet(2, tcp(1001, 80, kSyn, 7));  // a retransmit
    CHECK(f.sink.wait(2) == Verdict::allow);
    f.packet(3, tcp(1001, 80, kSyn, 99));  // a new connection
    CHECK(f.sink.wait(3) == Verdict::reject);
    f.engine->stop();
    CHECK(f.rec.events.size() == 2);
    CHECK(f.attributor.calls == 2);
}

TEST_CASE("a UDP socket that is gone takes its cached verdicts along; other flows keep theirs") {
    // Another process may bind the UDP port an allowed socket had: once the allowed socket is
    // gone (the kernel says so), its datagrams meet the rules, not the allowed socket's verdict.
    Fixture f;
    int calls = 0;
    f.rules.fn = [&calls](const Connection&) {
        return std::optional(rule(++calls <= 3 ? Action::allow : Action::deny, "r"));
    };
    const IpAddress me = IpAddress::v4(0x0a4d0001), peer = IpAddress::v4(0x0a4d0002);
    f.packet(1, udp(1500, 53));  // a connected socket's flow
    f.packet(2, udp(1600, 53));  // an unconnected socket's flow, and one of another socket
    f.packet(3, udp(1700, 53));
    for (uint32_t id : {1u, 2u, 3u})
        REQUIRE(f.sink.wait(id) == Verdict::allow);

    // The connected socket, as sock_diag names it (dual-stack: ::ffff:a.b.c.d).
    const std::vector<FlowKey> gone =
        f.engine->forget_socket(Protocol::udp, me.mapped_v6(), 1500, peer.mapped_v6(), 53);
    REQUIRE(gone.size() == 1);
    CHECK(gone[0].src == me);
    CHECK(gone[0].dst_port == 53);
    // The unconnected one: bound to the wildcard address, no peer.
    CHECK(f.engine
              ->forget_socket(Protocol::udp, IpAddress::any(Family::v4), 1600,
                              IpAddress::any(Family::v4), 0)
              .size() == 1);
    CHECK(f.engine->forget_socket(Protocol::tcp, me, 1700, peer, 53).empty());  // not UDP

    f.packet(4, udp(1500, 53));
    f.packet(5, udp(1600, 53));
    f.packet(6, udp(1700, 53));
    CHECK(f.sink.wait(4) == Verdict::deny);
    CHECK(f.sink.wait(5) == Verdict::deny);
    CHECK(f.sink.wait(6) == Verdict::allow);  // its socket is still there: the cache answers
    f.engine->stop();
    CHECK(f.rec.events.size() == 5);
}

TEST_CASE("interactive: connections of one process to one destination share one prompt") {
    EngineOptions o;
    o.interactive = true;
    o.prompt_timeout_s = 0;
    Fixture f(o);
    f.packet(1, tcp(1001, 443));
    REQUIRE(f.rec.wait_prompts(1));
    f.packet(2, tcp(1002, 443));  // same process (pid 42), same destination, another flow
    f.packet(3, tcp(1001, 443));  // retransmit of the first
    f.packet(4, tcp(1003, 22));   // another destination: its own prompt
    REQUIRE(f.rec.wait_prompts(2));
    // Give the decision thread time to file packet 2 under the first prompt.
    for (int i = 0; i < 200 && f.engine->prompts().size() == 2 && f.engine->prompts()[0].flows < 2;
         ++i)
        std::this_thread::sleep_for(5ms);
    auto prompts = f.engine->prompts();
    REQUIRE(prompts.size() == 2);
    CHECK(f.engine->stats().prompts_open == 2);
    CHECK(prompts[0].flows == 2);
    CHECK(prompts[0].packets == 3);
    CHECK_FALSE(f.sink.has(1));
    CHECK_FALSE(f.sink.has(2));

    REQUIRE(f.engine->answer(prompts[0].id, Action::allow).ok());
    CHECK(f.sink.wait(1) == Verdict::allow);
    CHECK(f.sink.wait(2) == Verdict::allow);
    CHECK(f.sink.wait(3) == Verdict::allow);
    CHECK_FALSE(f.sink.has(4));
    f.engine->flush_observers();  // verdicts go first, the observers hear of them after
    REQUIRE(f.rec.event_count() == 1);
    CHECK(f.rec.events[0].reason == Reason::prompt);
    CHECK_FALSE(f.engine->answer(prompts[0].id, Action::deny).ok());  // already answered

    // Stopping decides what is still open by DefaultAction, so nothing stays held.
    f.engine->stop();
    CHECK(f.sink.wait(4) == Verdict::deny);
}

TEST_CASE("an unanswered prompt gets DefaultAction after PromptTimeout, reason timeout") {
    EngineOptions o;
    o.interactive = true;
    o.prompt_timeout_s = 1;
    o.default_action = Action::reject;
    Fixture f(o);
    f.packet(1, tcp(1001, 443));
    REQUIRE(f.rec.wait_prompts(1));
    CHECK(f.sink.wait(1) == Verdict::reject);
    f.engine->stop();
    REQUIRE(f.rec.events.size() == 1);
    CHECK(f.rec.events[0].reason == Reason::timeout);
}

TEST_CASE("DNS answers are read and passed; RST and ICMP errors pass without a decision") {
    Fixture f;
    f.packet(1, udp(53, 40000, {0xab, 0xcd, 0x81, 0x80}), true);
    CHECK(f.sink.wait(1) == Verdict::pass);
    f.packet(2, tcp(1001, 80, kRst | kAck));
    CHECK(f.sink.wait(2) == Verdict::pass);
    std::vector<uint8_t> unreachable =
        ipv4(1, 0x0303, 0, {0, 0, 0, 0});  // type 3 code 3, checksum, unused
    f.packet(3, unreachable);
    CHECK(f.sink.wait(3) == Verdict::pass);
    f.engine->stop();
    CHECK(f.rec.events.empty());
    CHECK(f.attributor.calls == 0);
    REQUIRE(f.names.learned.size() == 1);
    CHECK(f.names.learned[0] == std::vector<uint8_t>{0xab, 0xcd, 0x81, 0x80});
}

TEST_CASE("a packet that cannot be parsed is dropped, not held") {
    Fixture f;
    f.packet(1, {0x45, 0, 0});
    CHECK(f.sink.wait(1) == Verdict::deny);
    CHECK(f.engine->stats().malformed == 1);
}

TEST_CASE("a slow attribution does not hold up the queue thread") {
    struct SlowAttributor : Attributor {
        std::mutex mu;
        std::condition_variable cv;
        bool release = false;
        Attribution attribute(const Connection&) override {
            std::unique_lock l(mu);
            cv.wait(l, [&] { return release; });
            return {};
        }
        Method method() const override { return Method::proc; }
    } slow;
    FakeSink sink;
    FakeRules rules;
    rules.fn = [](const Connection&) { return std::optional(rule(Action::allow, "a")); };
    Engine engine({}, sink, slow, rules, nullptr);
    engine.start();
    const auto first = tcp(1001, 80);
    QueuedPacket p{1, first, false, {}, {}, 0, 0, 0};
    engine.on_packet(p);  // the decision thread is now stuck in attribution
    // A decided flow and a DNS answer are answered on the caller's thread meanwhile.
    const auto dns = udp(53, 40000, {0, 1, 0x81, 0x80});
    QueuedPacket d{2, dns, true, {}, {}, 0, 0, 0};
    engine.on_packet(d);
    CHECK(sink.has(2));
    CHECK_FALSE(sink.has(1));
    {
        std::lock_guard l(slow.mu);
        slow.release = true;
    }
    slow.cv.notify_all();
    CHECK(sink.wait(1) == Verdict::allow);
}

TEST_CASE("the fast rung and a rule decide on the queue thread; otherwise the slow rung runs") {
    // Fast rung: knows source ports 3000..3999 (pid 77); the slow one knows 1000..1999.
    struct FastAttributor : Attributor {
        Attribution attribute(const Connection& c) override {
            Attribution a;
            if (c.src_port >= 3000 && c.src_port < 4000) {
                a.process = test::process_at(77, "/usr/bin/fast");
                a.method = Method::ebpf;
            }
            return a;
        }
        Method method() const override { return Method::ebpf; }
    } fast;
    FakeSink sink;
    CurlAttributor slow;
    FakeRules rules;
    rules.fn = [](const Connection& c) -> std::optional<RuleMatch> {
        if (c.dst_port == 443) return rule(Action::allow, "https");
        return std::nullopt;
    };
    Recorder rec;
    Engine engine({}, sink, slow, rules, nullptr, &fast);
    engine.add_observer(&rec);
    engine.start();
    const auto known = tcp(3001, 443);
    engine.on_packet({1, known, false, {}, {}, 0, 0, 0});
    CHECK(sink.has(1));  // answered before on_packet returned
    CHECK(slow.calls == 0);

    // Attributed by the fast rung but no rule: DefaultAction on the decision thread, without
    // asking the slow rung again.
    const auto unruled = tcp(3002, 80);
    engine.on_packet({2, unruled, false, {}, {}, 0, 0, 0});
    CHECK(sink.wait(2) == Verdict::deny);
    CHECK(slow.calls == 0);

    // Unknown to the fast rung: the slow rung finds it.
    const auto other = tcp(1001, 443);
    engine.on_packet({3, other, false, {}, {}, 0, 0, 0});
    CHECK(sink.wait(3) == Verdict::allow);
    CHECK(slow.calls == 1);
    engine.stop();
    REQUIRE(rec.events.size() == 3);
    CHECK(rec.events[0].method == Method::ebpf);
    CHECK(rec.events[0].connection.process->pid == 77);
    CHECK(rec.events[0].rule == "https");
    CHECK(rec.events[1].reason == Reason::default_action);
    CHECK(rec.events[1].connection.process->path == "/usr/bin/fast");
    CHECK(rec.events[2].method == Method::diag);
    CHECK(engine.stats().decisions == 3);
}

TEST_CASE("an answer can name the rule it made; a rule added later decides open prompts") {
    EngineOptions o;
    o.interactive = true;
    o.prompt_timeout_s = 0;
    Fixture f(o);
    f.packet(1, tcp(1001, 443));
    f.packet(2, tcp(1002, 22));
    REQUIRE(f.rec.wait_prompts(2));
    auto prompts = f.engine->prompts();
    REQUIRE(prompts.size() == 2);
    REQUIRE(f.engine->answer(prompts[0].id, Action::allow, "allow-curl-443").ok());
    CHECK(f.sink.wait(1) == Verdict::allow);

    CHECK(f.engine->rules_changed() == 0);  // no rule matches the other one yet
    CHECK_FALSE(f.sink.has(2));
    f.rules.fn = [](const Connection& c) -> std::optional<RuleMatch> {
        if (c.dst_port == 22) return rule(Action::reject, "no-ssh");
        return std::nullopt;
    };
    CHECK(f.engine->rules_changed() == 1);
    CHECK(f.sink.wait(2) == Verdict::reject);
    CHECK(f.engine->prompts().empty());
    CHECK(f.engine->stats().prompts_open == 0);
    f.engine->stop();
    REQUIRE(f.rec.events.size() == 2);
    CHECK(f.rec.events[0].reason == Reason::prompt);
    CHECK(f.rec.events[0].rule == "allow-curl-443");
    CHECK(f.rec.events[1].reason == Reason::rule);
    CHECK(f.rec.events[1].rule == "no-ssh");
    CHECK(f.rec.closed.size() == 2);
}

TEST_CASE("the events file gets one line per decision, nolog ones left out, all written on close") {
    char path[] = "/tmp/tsnitch-events-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    {
        auto ev = EventsFile::open(path);
        REQUIRE(ev.ok());
        DecisionEvent e;
        e.action = Action::reject;
        e.connection.dst_port = 53;
        for (int i = 0; i < 1000; ++i)
            (*ev)->on_decision(e, false);
        (*ev)->on_decision(e, true);  // nolog
    }
    std::ifstream in(path);
    std::string line;
    int lines = 0;
    bool all_reject = true;
    while (std::getline(in, line)) {
        ++lines;
        all_reject = all_reject && line.starts_with("{") && line.ends_with("}") &&
                     line.find("\"action\":\"reject\"") != std::string::npos;
    }
    std::remove(path);
    CHECK(lines == 1000);
    CHECK(all_reject);
}

TEST_CASE("the events file: a writer that is behind is waited for, a stuck one loses lines") {
    // A backlog of 4 lines and 10,000 decisions at once: the writer falls behind at once, and
    // every line is still written.
    char path[] = "/tmp/tsnitch-events-XXXXXX";
    const int fd = mkstemp(path);
    REQUIRE(fd >= 0);
    close(fd);
    {
        auto ev = EventsFile::open(path, 4);
        REQUIRE(ev.ok());
        DecisionEvent e;
        for (int i = 0; i < 10000; ++i)
            (*ev)->on_decision(e, false);
        (*ev)->drain();
        CHECK((*ev)->lost() == 0);
    }
    std::ifstream in(path);
    std::string line;
    int lines = 0;
    while (std::getline(in, line))
        ++lines;
    std::remove(path);
    CHECK(lines == 10000);

    // Standard output a pipe that nobody reads: the writer's write never returns. After a
    // second the lines beyond the backlog are lost and counted instead of waiting for ever (if
    // they waited, the child would never report, and the test would time out). In a child,
    // whose writer thread stays blocked when it exits. Once the pipe is read, the writer goes on
    // and reports the loss.
    int result[2];
    REQUIRE(pipe(result) == 0);
    const pid_t child = fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        int out[2];
        if (pipe(out) != 0) _exit(90);
        (void)fcntl(out[1], F_SETPIPE_SZ, 4096);
        dup2(out[1], STDOUT_FILENO);
        std::vector<std::string> said;
        auto ev = EventsFile::open("-", 4, [&](const std::string& m) { said.push_back(m); });
        if (!ev) _exit(91);
        DecisionEvent e;
        for (int i = 0; i < 200; ++i)
            (*ev)->on_decision(e, false);
        const uint64_t lost = (*ev)->lost();
        std::thread([fd = out[0]] {
            char sink[4096];
            while (read(fd, sink, sizeof sink) > 0) {
            }
        }).detach();
        (*ev)->drain();
        const bool reported = std::any_of(said.begin(), said.end(), [](const std::string& m) {
            return m.find("events dropped (a write was stuck for over 1 s)") != std::string::npos;
        });
        const std::string report = std::to_string(lost) + " " + (reported ? "1" : "0") + "\n";
        (void)!write(result[1], report.data(), report.size());
        _exit(0);
    }
    close(result[1]);
    char buf[64] = {};
    const ssize_t n = read(result[0], buf, sizeof buf - 1);
    close(result[0]);
    int status = 0;
    waitpid(child, &status, 0);
    REQUIRE(n > 0);
    unsigned long lost = 0;
    int reported = 0;
    REQUIRE(std::sscanf(buf, "%lu %d", &lost, &reported) == 2);
    CHECK(lost > 0);  // the 4096-byte pipe holds some ten lines; 4 wait; the rest are lost
    CHECK(lost < 200);
    CHECK(reported == 1);
}

TEST_CASE("a prompt's deadline is kept while many new flows wait for a slow attribution") {
    // Port 1001 is found at once; every other flow takes 200 ms to attribute (a slow /proc).
    struct SlowForOthers : Attributor {
        Attribution attribute(const Connection& c) override {
            Attribution a;
            if (c.src_port != 1001) {
                std::this_thread::sleep_for(200ms);
                return a;
            }
            a.process = test::process_at(42, "/usr/bin/curl");
            return a;
        }
        Method method() const override { return Method::proc; }
    } slow;
    FakeSink sink;
    FakeRules rules;
    EngineOptions o;
    o.interactive = true;
    o.prompt_timeout_s = 1;
    Engine engine(o, sink, slow, rules, nullptr);
    engine.start();
    const auto first = tcp(1001, 443);
    engine.on_packet(QueuedPacket{1, first, false, {}, {}, 0, 0, 0});
    for (uint32_t i = 0; i < 20; ++i) {
        const auto b = tcp(uint16_t(3000 + i), 443);
        engine.on_packet(QueuedPacket{100 + i, b, false, {}, {}, 0, 0, 0});
    }
    // 20 flows take 4 s to attribute; the prompt's 1 s deadline passes long before that.
    REQUIRE(sink.wait(1) == Verdict::deny);
    size_t still_waiting = 0;
    for (uint32_t i = 0; i < 20; ++i)
        still_waiting += sink.has(100 + i) ? 0 : 1;
    CHECK(still_waiting > 0);
    engine.stop();
}

TEST_CASE("beyond the held-packet bound a new flow gets DefaultAction at once, once") {
    EngineOptions o = bounded(2, Action::reject);
    Fixture f(o);
    f.packet(1, tcp(1001, 443));
    f.packet(2, tcp(1002, 444));
    REQUIRE(f.rec.wait_prompts(2));
    f.packet(3, tcp(1003, 445));  // nothing more can be held
    CHECK(f.sink.wait(3) == Verdict::reject);
    f.packet(4, tcp(1003, 445));  // its retransmit: the same verdict, no second decision
    CHECK(f.sink.wait(4) == Verdict::reject);
    const EngineStats st = f.engine->stats();
    CHECK(st.over_limit == 1);
    CHECK(st.flow_hits == 1);
    f.engine->flush_observers();
    CHECK(f.rec.event_count() == 1);
    CHECK_FALSE(f.sink.has(1));  // the held ones still wait for their prompts
    // A retransmit after the moment (EngineOptions::over_limit_memory) is decided anew: still
    // over the bound here, so DefaultAction again, as a second decision.
    std::this_thread::sleep_for(o.over_limit_memory + 100ms);
    f.packet(5, tcp(1003, 445));
    CHECK(f.sink.wait(5) == Verdict::reject);
    CHECK(f.engine->stats().over_limit == 2);
    f.engine->flush_observers();
    CHECK(f.rec.event_count() == 2);
}

TEST_CASE(
    "beyond the bound a retransmit of a waiting flow is dropped, never reset before its answer") {
    EngineOptions o = bounded(1, Action::reject);
    Fixture f(o);
    f.packet(1, tcp(1001, 443));
    REQUIRE(f.rec.wait_prompts(1));
    f.packet(2, tcp(1001, 443));  // its SYN again; nothing more can be held
    CHECK(f.sink.wait(2) == Verdict::deny);
    REQUIRE(f.engine->answer(f.rec.opened[0].id, Action::allow).ok());
    CHECK(f.sink.wait(1) == Verdict::allow);  // the connection lives to get its answer
}

TEST_CASE("a flow refused beyond the bound gets through when its retransmit finds room") {
    EngineOptions o = bounded(1);
    o.over_limit_memory = 100ms;
    Fixture f(o);
    f.rules.fn = [](const Connection& c) -> std::optional<RuleMatch> {
        if (c.process && c.dst_port == 8080) return rule(Action::allow, "allow-curl-8080");
        return std::nullopt;
    };
    f.packet(1, tcp(1001, 443));  // a prompt holds the one packet that may be held
    REQUIRE(f.rec.wait_prompts(1));
    f.packet(2, tcp(1002, 8080));  // a rule would allow it, once its process is known
    CHECK(f.sink.wait(2) == Verdict::deny);
    REQUIRE(f.engine->answer(f.rec.opened[0].id, Action::deny).ok());  // room again
    std::this_thread::sleep_for(o.over_limit_memory + 100ms);
    f.packet(3, tcp(1002, 8080));  // the SYN's retransmit
    CHECK(f.sink.wait(3) == Verdict::allow);
}

TEST_CASE("beyond the held-packet bound a rule that needs no process still decides") {
    // The flood's prompts hold every packet that may be held; a connection that a rule on its
    // port allows is allowed all the same (it was denied, and its retransmits with it, for the
    // flow's whole life), and only what the rules cannot tell without the process gets
    // DefaultAction.
    EngineOptions o = bounded(2, Action::deny);
    Fixture f(o);
    f.rules.without = [](const Connection& c) -> std::optional<RuleMatch> {
        CHECK_FALSE(c.process);  // asked before any attribution
        if (c.dst_port == 8080) return rule(Action::allow, "allow-8080");
        return std::nullopt;
    };
    f.packet(1, tcp(1001, 443));
    f.packet(2, tcp(1002, 444));
    REQUIRE(f.rec.wait_prompts(2));
    f.packet(3, tcp(5003, 8080));  // nothing more can be held; the rule needs no process
    CHECK(f.sink.wait(3) == Verdict::allow);
    f.packet(4, tcp(5003, 8080));  // its retransmit: from the flow cache
    CHECK(f.sink.wait(4) == Verdict::allow);
    f.packet(5, tcp(5004, 9090));  // no rule can tell: DefaultAction
    CHECK(f.sink.wait(5) == Verdict::deny);
    f.engine->flush_observers();
    std::lock_guard l(f.rec.mu);
    REQUIRE(f.rec.events.size() == 2);
    CHECK(f.rec.events[0].action == Action::allow);
    CHECK(f.rec.events[0].reason == Reason::rule);
    CHECK(f.rec.events[0].rule == "allow-8080");
    CHECK(f.rec.events[0].connection.dst_host == "peer.example");
    CHECK(f.rec.events[1].reason == Reason::default_action);
    CHECK(f.engine->stats().over_limit == 1);
}

TEST_CASE("beyond the bound one spraying socket gets DefaultAction, another socket still waits") {
    EngineOptions o = bounded(2, Action::deny, 2);
    Fixture f(o);
    // One socket of curl's (source port 1500) to many ports, as a flood from one UDP socket.
    for (uint16_t i = 0; i < 4; ++i)
        f.packet(1 + i, udp(1500, uint16_t(9000 + i)));
    // The first two were held; its next ones find the bound.
    CHECK(f.sink.wait(3) == Verdict::deny);
    CHECK(f.sink.wait(4) == Verdict::deny);
    // Other sockets, with nothing waiting, take the reserve and wait for their own decision;
    // once it is used up, DefaultAction for every new flow.
    f.packet(10, tcp(1001, 443));
    f.packet(11, tcp(1002, 443));
    f.packet(12, tcp(1003, 443));
    CHECK(f.sink.wait(12) == Verdict::deny);
    CHECK_FALSE(f.sink.has(10));  // a refusal would have been answered by now (at once)
    CHECK_FALSE(f.sink.has(11));
    CHECK_FALSE(f.sink.has(1));
    CHECK_FALSE(f.sink.has(2));
    CHECK(f.engine->stats().over_limit == 3);
}

TEST_CASE("a kernel-path decision is counted and told to the observers like a queued one") {
    Fixture f;
    DecisionEvent e;
    e.action = Action::reject;
    e.reason = Reason::rule;
    e.rule = "reject-curl";
    e.path = DecisionPath::kernel;
    e.connection.dst_port = 443;
    f.engine->on_kernel_decision(e, false);
    e.action = Action::allow;
    f.engine->on_kernel_decision(e, true);
    const EngineStats st = f.engine->stats();
    CHECK(st.decisions == 2);
    CHECK(st.rejected == 1);
    CHECK(st.allowed == 1);
    CHECK(st.packets == 0);  // nothing was queued
    f.engine->stop();
    REQUIRE(f.rec.events.size() == 2);
    CHECK(f.rec.events[0].path == DecisionPath::kernel);
    CHECK(f.rec.events[0].rule == "reject-curl");
    CHECK(f.rec.events[1].action == Action::allow);
}

TEST_CASE(
    "verdicts go back to the queue each packet came from, also when one answer decides many") {
    EngineOptions o;
    o.interactive = true;
    o.prompt_timeout_s = 0;
    Fixture f(o);
    const auto a = tcp(1001, 443), b = tcp(1002, 443);
    QueuedPacket p1{1, a, false, 1000, {}, 0, 0, 0, 7};
    QueuedPacket p2{2, b, false, 1000, {}, 0, 0, 0, 8};
    f.engine->on_packet(p1);
    REQUIRE(f.rec.wait_prompts(1));
    f.engine->on_packet(p2);  // same process and destination, read by another queue's reader
    for (int i = 0; i < 200 && f.engine->prompts()[0].flows < 2; ++i)
        std::this_thread::sleep_for(5ms);
    REQUIRE(f.engine->prompts().size() == 1);
    REQUIRE(f.engine->answer(f.engine->prompts()[0].id, Action::allow).ok());
    CHECK(f.sink.wait(1) == Verdict::allow);
    CHECK(f.sink.wait(2) == Verdict::allow);
    std::lock_guard l(f.sink.mu);
    CHECK(f.sink.queues[1] == 7);
    CHECK(f.sink.queues[2] == 8);
}

TEST_CASE("several readers at once: every packet gets one verdict, every flow one decision") {
    // The fast rung knows every source port: rules decide on the reader threads.
    struct EveryPort : Attributor {
        Attribution attribute(const Connection&) override {
            Attribution a;
            a.process = test::process_at(9, "/usr/bin/many");
            a.method = Method::ebpf;
            return a;
        }
        Method method() const override { return Method::ebpf; }
    } fast;
    FakeSink sink;
    CurlAttributor slow;
    FakeRules rules;
    rules.fn = [](const Connection& c) -> std::optional<RuleMatch> {
        if (c.src_port % 2 == 0) return rule(Action::allow, "even");
        return std::nullopt;  // odd ports: DefaultAction on the decision thread
    };
    Recorder rec;
    Engine engine({}, sink, slow, rules, nullptr, &fast);
    engine.add_observer(&rec);
    engine.start();
    constexpr int kReaders = 4, kFlows = 300;
    std::vector<std::vector<uint8_t>> packets;
    for (int i = 0; i < kFlows; ++i)
        packets.push_back(tcp(static_cast<uint16_t>(20000 + i), 443));
    std::vector<std::thread> readers;
    for (int r = 0; r < kReaders; ++r) {
        readers.emplace_back([&, r] {
            // Each reader sees every flow once (as retransmits spread over queues would be).
            for (int i = 0; i < kFlows; ++i) {
                const uint32_t id = static_cast<uint32_t>(r * kFlows + i + 1);
                engine.on_packet({id,
                                  packets[static_cast<size_t>(i)],
                                  false,
                                  1000,
                                  {},
                                  0,
                                  0,
                                  0,
                                  static_cast<uint16_t>(r)});
            }
        });
    }
    for (auto& t : readers)
        t.join();
    for (uint32_t id = 1; id <= kReaders * kFlows; ++id)
        REQUIRE(sink.wait(id));
    engine.stop();
    std::lock_guard l(sink.mu);
    CHECK(sink.verdicts.size() == size_t{kReaders * kFlows});
    for (uint32_t id = 1; id <= kReaders * kFlows; ++id) {
        const int port = 20000 + static_cast<int>((id - 1) % kFlows);
        CHECK(sink.verdicts[id] == (port % 2 == 0 ? Verdict::allow : Verdict::deny));
        CHECK(sink.queues[id] == (id - 1) / kFlows);
    }
    // Odd flows: filed once, joined by the other readers' copies. Even flows: decided by
    // whichever reader got there first; a reader that raced it only answers its packet.
    size_t odd_events = 0;
    for (const auto& e : rec.events)
        odd_events += e.connection.src_port % 2 == 1;
    CHECK(odd_events == kFlows / 2);
    CHECK(rec.events.size() == size_t{kFlows});
    CHECK(engine.stats().decisions == uint64_t{kFlows});
    CHECK(slow.calls == 0);
}

TEST_CASE("rules that hash the executable are matched on the decision thread, not the reader") {
    struct CountingFast : Attributor {
        std::atomic<int> calls{0};
        Attribution attribute(const Connection&) override {
            ++calls;
            return {};
        }
        Method method() const override { return Method::ebpf; }
    } fast;
    struct HashRules : FakeRules {
        bool needs_exe_hash() const override { return true; }
    } rules;
    rules.fn = [](const Connection& c) -> std::optional<RuleMatch> {
        if (c.process) return rule(Action::allow, "by-hash");
        return std::nullopt;
    };
    FakeSink sink;
    CurlAttributor slow;
    Engine engine({}, sink, slow, rules, nullptr, &fast);
    engine.start();
    const auto p = tcp(1001, 443);
    engine.on_packet({1, p, false, {}, {}, 0, 0, 0});
    CHECK(sink.wait(1) == Verdict::allow);
    CHECK(fast.calls == 0);
    CHECK(slow.calls == 1);
    engine.stop();
}
