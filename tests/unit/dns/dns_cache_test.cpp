#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "core/dns/dns_cache.h"
#include "core/dns/dns_message.h"
#include "dns_test_util.h"

using namespace std::chrono_literals;
using tsnitch::DnsCache;
using tsnitch::IpAddress;

namespace {

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

// A clock the test moves by hand.
struct FakeClock {
    std::chrono::steady_clock::time_point now{std::chrono::hours(1000)};
    DnsCache::Clock clock() {
        return [this] { return now; };
    }
};

}  // namespace

TEST_CASE("an address is named until its TTL runs out") {
    FakeClock t;
    DnsCache cache({.min_ttl = 60s}, t.clock());
    cache.add(ip("140.82.121.4"), "github.com", 300s);
    CHECK(cache.lookup(ip("140.82.121.4")) == "github.com");
    t.now += 299s;
    CHECK(cache.lookup(ip("140.82.121.4")) == "github.com");
    t.now += 1s;
    CHECK_FALSE(cache.lookup(ip("140.82.121.4")).has_value());
    CHECK_FALSE(cache.lookup(ip("10.0.0.1")).has_value());
}

TEST_CASE("a 0-TTL answer still names the connection that follows it") {
    FakeClock t;
    DnsCache cache({.min_ttl = 60s}, t.clock());
    cache.add(ip("192.0.2.1"), "zero.test", 0s);
    t.now += 59s;
    CHECK(cache.lookup(ip("192.0.2.1")) == "zero.test");
    t.now += 1s;
    CHECK_FALSE(cache.lookup(ip("192.0.2.1")).has_value());
}

TEST_CASE("a huge TTL is capped") {
    FakeClock t;
    DnsCache cache({.max_ttl = 24h}, t.clock());
    cache.add(ip("192.0.2.1"), "forever.test", std::chrono::seconds(0x7fffffff));
    t.now += 24h;
    CHECK_FALSE(cache.lookup(ip("192.0.2.1")).has_value());
}

TEST_CASE("the newest answer for an address wins") {
    FakeClock t;
    DnsCache cache({}, t.clock());
    cache.add(ip("151.101.1.1"), "first.example", 3600s);
    t.now += 1s;
    cache.add(ip("151.101.1.1"), "second.example", 120s);
    CHECK(cache.lookup(ip("151.101.1.1")) == "second.example");
    CHECK(cache.size() == 1);
    t.now += 121s;  // the newer, shorter answer decides the expiry too
    CHECK_FALSE(cache.lookup(ip("151.101.1.1")).has_value());
}

TEST_CASE("when full, the oldest answer is dropped first") {
    FakeClock t;
    DnsCache cache({.max_entries = 3}, t.clock());
    cache.add(ip("10.0.0.1"), "one.test", 600s);
    cache.add(ip("10.0.0.2"), "two.test", 600s);
    cache.add(ip("10.0.0.3"), "three.test", 600s);
    cache.add(ip("10.0.0.1"), "one.test", 600s);  // answered again: now the newest
    cache.add(ip("10.0.0.4"), "four.test", 600s);
    CHECK(cache.size() == 3);
    CHECK_FALSE(cache.lookup(ip("10.0.0.2")).has_value());
    CHECK(cache.lookup(ip("10.0.0.1")) == "one.test");
    CHECK(cache.lookup(ip("10.0.0.3")) == "three.test");
    CHECK(cache.lookup(ip("10.0.0.4")) == "four.test");
}

TEST_CASE("the size bound holds under a flood of answers") {
    DnsCache cache({.max_entries = 100});
    for (uint32_t i = 0; i < 10000; ++i)
        cache.add(IpAddress::v4(0x0a000000u + i), "flood.test", 600s);
    CHECK(cache.size() == 100);
    CHECK(cache.lookup(IpAddress::v4(0x0a000000u + 9999)) == "flood.test");
    CHECK_FALSE(cache.lookup(IpAddress::v4(0x0a000000u)).has_value());
}

TEST_CASE("expired entries make room on their own") {
    FakeClock t;
    DnsCache cache({.min_ttl = 60s}, t.clock());
    cache.add(ip("10.0.0.1"), "old.test", 60s);
    t.now += 61s;
    cache.add(ip("10.0.0.2"), "new.test", 60s);
    CHECK(cache.size() == 1);
}

TEST_CASE("a dual-stack socket's mapped address and a scoped address find their names") {
    DnsCache cache;
    cache.add(ip("140.82.121.4"), "github.com", 60s);
    cache.add(ip("fe80::1"), "router.lan", 60s);
    CHECK(cache.lookup(ip("::ffff:140.82.121.4")) == "github.com");
    IpAddress scoped = IpAddress::v6_bytes(ip("fe80::1").bytes().first<16>(), 3);
    CHECK(cache.lookup(scoped) == "router.lan");
}

TEST_CASE("a parsed answer fills the cache; a query adds nothing") {
    using namespace dns_test;
    Wire w;
    w.response(2).question("example.test");
    w.pointer(kQuestionName).record(kA, 0, 4).bytes({10, 77, 0, 2});
    w.pointer(kQuestionName)
        .record(kAaaa, 0, 16)
        .bytes({0xfd, 0x77, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2});
    auto m = tsnitch::parse_dns_message(w.b);
    REQUIRE(m.ok());
    DnsCache cache;
    auto query = *m;
    query.is_response = false;
    cache.add(query);
    CHECK(cache.size() == 0);
    cache.add(*m);
    CHECK(cache.lookup(ip("10.77.0.2")) == "example.test");
    CHECK(cache.lookup(ip("fd77::2")) == "example.test");
}

TEST_CASE("the queue thread can add while others look up") {
    DnsCache cache({.max_entries = 64});
    std::atomic<bool> stop{false};
    std::thread writer([&] {
        for (uint32_t i = 0; i < 20000; ++i)
            cache.add(IpAddress::v4(0x0a000000u + i % 200), "name-" + std::to_string(i % 200), 60s);
        stop = true;
    });
    size_t found = 0;
    std::vector<std::thread> readers;
    std::atomic<size_t> wrong{0};
    for (int r = 0; r < 2; ++r)
        readers.emplace_back([&] {
            while (!stop) {
                for (uint32_t i = 0; i < 200; ++i) {
                    auto name = cache.lookup(IpAddress::v4(0x0a000000u + i));
                    if (name && *name != "name-" + std::to_string(i)) ++wrong;
                }
            }
        });
    writer.join();
    for (auto& r : readers)
        r.join();
    for (uint32_t i = 0; i < 200; ++i)
        found += cache.lookup(IpAddress::v4(0x0a000000u + i)).has_value();
    CHECK(wrong == 0);
    CHECK(found == 64);
    CHECK(cache.size() == 64);
}

TEST_CASE("the rename callback tells when an address gets a new name or loses it") {
    FakeClock clock;
    DnsCache::Options o;
    o.max_entries = 2;
    DnsCache cache(o, clock.clock());
    std::vector<std::string> told;
    cache.set_on_rename([&](const IpAddress* a) { told.push_back(a ? a->to_string() : "all"); });
    cache.add(ip("10.0.0.1"), "a.example", 300s);
    CHECK(told == std::vector<std::string>{"10.0.0.1"});  // named for the first time
    cache.add(ip("10.0.0.1"), "a.example", 300s);
    CHECK(told.size() == 1);  // the same name again: nothing changed
    cache.add(ip("::ffff:10.0.0.1"), "b.example", 300s);
    CHECK(told == std::vector<std::string>{"10.0.0.1", "10.0.0.1"});  // another name
    auto l = cache.lookup_entry(ip("10.0.0.1"));
    REQUIRE(l);
    CHECK(l->name == "b.example");
    CHECK(l->expires == clock.now + 300s);
    cache.add(ip("10.0.0.2"), "c.example", 300s);
    cache.add(ip("10.0.0.3"), "d.example", 300s);  // full: 10.0.0.1's name is dropped
    CHECK(told ==
          std::vector<std::string>{"10.0.0.1", "10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.1"});
    clock.now += 400s;
    told.clear();
    cache.add(ip("10.0.0.2"), "c.example", 300s);  // expired before: named anew
    CHECK(told.front() == "10.0.0.2");
    cache.clear();
    CHECK(told.back() == "all");
    CHECK_FALSE(cache.lookup_entry(ip("10.0.0.2")));
}
