// The flow cache the queue readers share: decided flows answered until they expire, bounded, and
// safe for several readers at once.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/engine/flow_cache.h"

using namespace tsnitch;
using namespace std::chrono_literals;

namespace {

FlowKey key(uint16_t sport) {
    FlowKey k;
    k.protocol = Protocol::udp;
    k.src = *IpAddress::parse("10.0.0.1");
    k.dst = *IpAddress::parse("10.0.0.2");
    k.src_port = sport;
    k.dst_port = 53;
    return k;
}

}  // namespace

TEST_CASE("a decided flow is answered until it has been unused for the TTL") {
    FlowCache c(60s, 1024);
    const auto t0 = FlowCache::Clock::time_point{} + 1000s;
    CHECK_FALSE(c.find(key(1), t0));
    c.remember(key(1), Action::reject, t0);
    CHECK(c.find(key(1), t0 + 59s) == Action::reject);
    CHECK(c.find(key(1), t0 + 59s + 59s) == Action::reject);  // each use extends it
    CHECK_FALSE(c.find(key(1), t0 + 59s + 59s + 61s));
    CHECK(c.size() == 0);  // an expired entry found is dropped
}

TEST_CASE("a flow remembered for a moment is answered for that moment only, however often used") {
    FlowCache c(60s, 1024);
    const auto t0 = FlowCache::Clock::time_point{} + 1000s;
    c.remember_for(key(1), Action::deny, t0, 500ms);
    CHECK(c.find(key(1), t0 + 200ms) == Action::deny);
    CHECK(c.find(key(1), t0 + 400ms) == Action::deny);  // the uses did not extend it
    CHECK_FALSE(c.find(key(1), t0 + 501ms));
    // A later decision of the flow is remembered as usual.
    c.remember(key(1), Action::allow, t0 + 1s);
    CHECK(c.find(key(1), t0 + 50s) == Action::allow);
}

TEST_CASE("remember_new keeps a live decision and replaces an expired one") {
    FlowCache c(60s, 1024);
    const auto t0 = FlowCache::Clock::time_point{} + 1000s;
    CHECK(c.remember_new(key(1), Action::allow, t0));
    CHECK_FALSE(c.remember_new(key(1), Action::deny, t0 + 1s));  // another reader decided first
    CHECK(c.find(key(1), t0 + 2s) == Action::allow);
    CHECK(c.remember_new(key(1), Action::deny, t0 + 2s + 61s));  // that one had expired
    CHECK(c.find(key(1), t0 + 2s + 62s) == Action::deny);
}

TEST_CASE("the cache stays bounded; clear forgets everything") {
    FlowCache c(60s, 160);
    const auto t0 = FlowCache::Clock::time_point{} + 1000s;
    for (uint16_t p = 1; p <= 5000; ++p)
        c.remember(key(p), Action::allow, t0 + std::chrono::milliseconds(p));
    CHECK(c.size() <= 160);
    CHECK(c.find(key(5000), t0 + 5s) == Action::allow);  // the newest are kept
    c.clear();
    CHECK(c.size() == 0);
    CHECK_FALSE(c.find(key(5000), t0 + 5s));
}

TEST_CASE("readers and writers at once: every remembered flow is found with its action") {
    FlowCache c(60s, 1 << 16);
    const auto t0 = FlowCache::Clock::now();
    const auto want = [](uint16_t p) { return p % 2 ? Action::allow : Action::deny; };
    std::vector<std::thread> threads;
    std::atomic<int> wrong{0};
    for (int w = 0; w < 2; ++w) {
        threads.emplace_back([&, w] {
            for (uint16_t p = static_cast<uint16_t>(1 + w); p <= 4000; p += 2)
                c.remember(key(p), want(p), t0);
        });
    }
    for (int r = 0; r < 4; ++r) {
        threads.emplace_back([&] {
            // Meanwhile: a flow is either not there yet or there with its action.
            for (uint16_t p = 1; p <= 4000; ++p) {
                if (auto a = c.find(key(p), t0 + 1s); a && *a != want(p)) ++wrong;
            }
        });
    }
    for (auto& t : threads)
        t.join();
    for (uint16_t p = 1; p <= 4000; ++p)
        if (c.find(key(p), t0 + 1s) != want(p)) ++wrong;
    CHECK(wrong == 0);
    CHECK(c.size() == 4000);
}

TEST_CASE("a gone socket's flows are forgotten; the allowed ones are named") {
    FlowCache c(60s, 1024);
    const auto t0 = FlowCache::Clock::time_point{} + 1000s;
    c.remember(key(1), Action::allow, t0);
    c.remember(key(2), Action::deny, t0);
    c.remember(key(3), Action::allow, t0);
    CHECK(c.forget(key(1)) == Action::allow);
    CHECK_FALSE(c.forget(key(1)));
    const auto allowed = c.forget_if([](const FlowKey& k) { return k.src_port >= 2; });
    CHECK(allowed.size() == 1);
    CHECK(allowed[0] == key(3));
    CHECK(c.size() == 0);
}
