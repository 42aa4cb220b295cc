#include "core/engine/observer_relay.h"

#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace tsnitch;
using namespace std::chrono_literals;

namespace {

// What the observer heard, in order: "d<port>" for a decision, "o<id>" opened, "c<id>" closed.
struct Heard : EngineObserver {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<std::string> notes;
    std::thread::id thread;
    void note(std::string s) {
        std::lock_guard l(mu);
        notes.push_back(std::move(s));
        thread = std::this_thread::get_id();
        cv.notify_all();
    }
    void on_decision(const DecisionEvent& e, bool) override {
        note("d" + std::to_string(e.connection.dst_port));
    }
    void on_prompt_opened(const Prompt& p) override { note("o" + std::to_string(p.id)); }
    void on_prompt_closed(uint64_t id, Action, Reason, const std::optional<std::string>&) override {
        note("c" + std::to_string(id));
    }
    size_t count() {
        std::lock_guard l(mu);
        return notes.size();
    }
    bool wait(size_t n) {
        std::unique_lock l(mu);
        return cv.wait_for(l, 10s, [&] { return notes.size() >= n; });
    }
};

DecisionEvent decision(uint16_t port) {
    DecisionEvent e;
    e.connection.dst_port = port;
    return e;
}

Prompt prompt(uint64_t id) {
    Prompt p;
    p.id = id;
    return p;
}

}  // namespace

TEST_CASE("the relay delivers on its own thread, in order, decisions in batches, prompts at once") {
    Heard heard;
    std::vector<EngineObserver*> observers{&heard};
    // A batch time no test run reaches: decisions wait for it, for a flush or for a prompt.
    ObserverRelay relay(observers, {.batch = std::chrono::hours(1), .max_queued = 1000});
    relay.start();
    relay.decision(decision(1), false);  // the relay was idle: delivered at once
    REQUIRE(heard.wait(1));
    CHECK(heard.thread != std::this_thread::get_id());
    const uint64_t woken = relay.wakeups();  // 0 or 1: the thread may not have slept yet
    for (uint16_t p = 2; p <= 100; ++p)
        relay.decision(decision(p), false);
    std::this_thread::sleep_for(50ms);
    CHECK(heard.count() == 1);  // they gather: no wake-up per decision
    CHECK(relay.wakeups() == woken);

    relay.prompt_opened(prompt(7));  // a person waits for it: it wakes the relay
    REQUIRE(heard.wait(101));
    CHECK(relay.wakeups() == woken + 1);
    relay.decision(decision(200), false);
    relay.prompt_closed(7, Action::allow, Reason::prompt, std::nullopt);
    relay.flush();
    REQUIRE(heard.count() == 103);
    CHECK(heard.notes[0] == "d1");
    CHECK(heard.notes[99] == "d100");
    CHECK(heard.notes[100] == "o7");
    CHECK(heard.notes[101] == "d200");
    CHECK(heard.notes[102] == "c7");
    relay.stop();
    relay.decision(decision(300), false);  // after stop: delivered by the caller, not lost
    CHECK(heard.count() == 104);
    CHECK(heard.thread == std::this_thread::get_id());
}

TEST_CASE("the relay: half a queue wakes it; a full queue makes callers wait, nothing is dropped") {
    Heard heard;
    std::vector<EngineObserver*> observers{&heard};
    ObserverRelay relay(observers, {.batch = std::chrono::hours(1), .max_queued = 64});
    relay.start();
    relay.decision(decision(1), false);
    REQUIRE(heard.wait(1));
    // 10,000 from two threads at once through a queue of 64: every one arrives.
    auto send = [&](uint16_t base) {
        for (uint16_t i = 0; i < 5000; ++i)
            relay.decision(decision(static_cast<uint16_t>(base + i)), false);
    };
    std::thread a(send, 10000), b(send, 20000);
    a.join();
    b.join();
    relay.flush();
    CHECK(heard.count() == 10001);
    relay.stop();
}

TEST_CASE("a relay never started delivers on stop() what was handed in") {
    Heard heard;
    std::vector<EngineObserver*> observers{&heard};
    ObserverRelay relay(observers);
    relay.decision(decision(5), false);
    CHECK(heard.count() == 0);
    relay.stop();
    REQUIRE(heard.count() == 1);
    CHECK(heard.notes[0] == "d5");
}

TEST_CASE("an observer that notifies again from its callback is never made to wait for room") {
    // Each delivered decision below 1000 hands in two more, through a queue of 4: only the relay's
    // own thread could make room, so it must not wait for it.
    struct Echo : EngineObserver {
        ObserverRelay* relay = nullptr;
        std::atomic<int> heard{0};
        void on_decision(const DecisionEvent& e, bool) override {
            ++heard;
            if (e.connection.dst_port < 1000) {
                relay->decision(decision(static_cast<uint16_t>(e.connection.dst_port * 2)), false);
                relay->decision(decision(static_cast<uint16_t>(e.connection.dst_port * 2 + 1)),
                                false);
            }
        }
    } echo;
    std::vector<EngineObserver*> observers{&echo};
    ObserverRelay relay(observers, {.batch = std::chrono::microseconds(100), .max_queued = 4});
    echo.relay = &relay;
    relay.start();
    relay.decision(decision(1), false);
    for (int i = 0; i < 1000 && echo.heard < 1999; ++i)
        std::this_thread::sleep_for(5ms);
    relay.stop();
    CHECK(echo.heard == 1999);  // ports 1..1999: a full binary tree below 1000
}

TEST_CASE("flush() on a relay never started delivers on the calling thread") {
    Heard heard;
    std::vector<EngineObserver*> observers{&heard};
    ObserverRelay relay(observers);
    relay.prompt_opened(prompt(3));
    relay.decision(decision(4), false);
    relay.flush();
    REQUIRE(heard.count() == 2);
    CHECK(heard.notes[0] == "o3");
    CHECK(heard.notes[1] == "d4");
    CHECK(heard.thread == std::this_thread::get_id());
    relay.start();  // and it still starts afterwards
    relay.decision(decision(5), false);
    relay.flush();
    CHECK(heard.count() == 3);
    CHECK(heard.thread != std::this_thread::get_id());
}
