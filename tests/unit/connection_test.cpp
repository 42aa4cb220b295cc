#include <doctest/doctest.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <ctime>
#include <string>

#include "core/connection.h"
#include "core/duration.h"
#include "core/json.h"

using namespace tsnitch;

TEST_CASE(
    "a connection's destination: the host name when known, IPv6 in brackets, no port for ICMP") {
    Connection c;
    c.protocol = Protocol::tcp;
    c.dst = *IpAddress::parse("140.82.121.4");
    c.dst_port = 443;
    CHECK(c.destination_text() == "140.82.121.4:443");
    c.dst_host = "github.com";
    CHECK(c.destination_text() == "github.com:443");
    c.dst_host = "";  // an empty name is no name
    CHECK(c.destination_text() == "140.82.121.4:443");
    Connection v6;
    v6.protocol = Protocol::udp;
    v6.dst = *IpAddress::parse("fe80::1");
    v6.dst_port = 53;
    CHECK(v6.destination_text() == "[fe80::1]:53");  // not "fe80::1:53": that reads as an address
    v6.dst = *IpAddress::parse("::ffff:10.0.2.2");
    CHECK(v6.destination_text() == "10.0.2.2:53");
    Connection ping;
    ping.protocol = Protocol::icmp6;
    ping.dst = *IpAddress::parse("2001:db8::1");
    CHECK(ping.destination_text() == "2001:db8::1");
}

TEST_CASE("the event line has every field of DESIGN.md in order") {
    DecisionEvent e;
    e.time = std::chrono::system_clock::time_point(std::chrono::milliseconds(1795896062345LL));
    e.action = Action::reject;
    e.reason = Reason::unknown_process;
    e.connection.protocol = Protocol::udp;
    e.connection.src = *IpAddress::parse("10.0.0.1");
    e.connection.src_port = 5000;
    e.connection.dst = *IpAddress::parse("2001:db8::1");
    e.connection.dst_port = 53;
    e.connection.uid = 1000;
    e.method = Method::none;
    CHECK(
        event_json(e) ==
        R"({"time":"2026-11-28T20:01:02.345Z","action":"reject","reason":"unknown-process","rule":null,)"
        R"("protocol":"udp","src_ip":"10.0.0.1","src_port":5000,"dst_ip":"2001:db8::1","dst_port":53,)"
        R"("dst_host":null,"uid":1000,"pid":null,"process_path":"","process_args":[],"method":"none",)"
        R"("attribution_us":0,"path":"queue"})");
    // Neither the kernel nor attribution named a user: null, never 0 (root).
    e.connection.uid.reset();
    CHECK(event_json(e).find(R"("uid":null,"pid":null,)") != std::string::npos);
    ProcessInfo p;
    p.pid = 42;
    p.uid = 0;
    p.path = "/usr/bin/curl";
    p.args = {"curl", "-s", "a\"b\nc"};
    e.connection.process = std::make_shared<const ProcessInfo>(p);
    e.connection.dst_host = "example.test";
    e.rule = "allow-curl";
    e.reason = Reason::rule;
    e.method = Method::ebpf;
    e.attribution_us = 7;
    e.path = DecisionPath::kernel;
    const std::string j = event_json(e);
    CHECK(j.find(R"("rule":"allow-curl")") != std::string::npos);
    CHECK(
        j.find(
            R"("uid":0,"pid":42,"process_path":"/usr/bin/curl","process_args":["curl","-s","a\"b\nc"])") !=
        std::string::npos);
    CHECK(j.find(R"("dst_host":"example.test")") != std::string::npos);
    CHECK(j.find(R"("method":"ebpf","attribution_us":7,"path":"kernel"})") != std::string::npos);
}

TEST_CASE("event times are the C library's UTC time, to the millisecond, for every kind of date") {
    using namespace std::chrono;
    const auto libc = [](int64_t ms) {
        const int64_t secs = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
        const time_t t = static_cast<time_t>(secs);
        tm utc{};
        REQUIRE(gmtime_r(&t, &utc) != nullptr);
        char buf[64];
        const size_t n = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &utc);
        char frac[8];
        std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms - secs * 1000));
        return std::string(buf, n) + frac;
    };
    const auto at = [](int64_t ms) { return system_clock::time_point(milliseconds(ms)); };
    // Epoch, leap days (2000 is a leap year, 2100 is not), year and month ends, before 1970,
    // and the ends of what a system_clock time (nanoseconds in 64 bits) can hold.
    const int64_t day = 86400000;
    for (int64_t ms :
         {int64_t{0}, int64_t{999}, int64_t{1795896062345}, 951782400000 + 1, 951868799999,
          4107542400000, 4107628800000 - 1, 1798761599999, int64_t{-1}, -day, -day - 1,
          -2208988800000, int64_t{9223372036854}, int64_t{-9223372036854}})
        CHECK(iso8601_utc_ms(at(ms)) == libc(ms));
    uint64_t x = 0x9e3779b97f4a7c15ull;  // a fixed pseudo-random walk over 1677 to 2262
    for (int i = 0; i < 20000; ++i) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        const int64_t ms = static_cast<int64_t>(x % 18446744073708ull) - 9223372036854;
        REQUIRE(iso8601_utc_ms(at(ms)) == libc(ms));
    }
    CHECK(iso8601_utc_ms(at(1795896062345)) == "2026-11-28T20:01:02.345Z");
}

TEST_CASE("hostile strings cannot break a JSON line") {
    CHECK(json_quote("plain") == "\"plain\"");
    CHECK(json_quote(std::string("a\0b", 3)) == "\"a\\u0000b\"");
    CHECK(json_quote("\x1b[31mred") == "\"\\u001b[31mred\"");
    CHECK(json_quote("caf\xc3\xa9") == "\"caf\xc3\xa9\"");  // valid UTF-8 kept
    // Invalid bytes are the text \xNN, not Latin-1 letters (\u00ff would read as "ÿ").
    CHECK(json_quote("bad\xff\xc3") == "\"bad\\\\xff\\\\xc3\"");
    CHECK(json_quote("\xc0\xaf") == "\"\\\\xc0\\\\xaf\"");  // overlong '/' refused
    // A plain run first, then what needs escaping; appended after what `out` holds.
    CHECK(json_quote("/usr/bin/a\"b\\c\n\x7f") == "\"/usr/bin/a\\\"b\\\\c\\n\\u007f\"");
    std::string out = "x=";
    append_json_string(out, "ok");
    append_json_string(out, "");
    CHECK(out == "x=\"ok\"\"\"");
}

TEST_CASE("names of protocols, actions, methods and reasons") {
    for (auto p : {Protocol::tcp, Protocol::udp, Protocol::udplite, Protocol::sctp, Protocol::icmp,
                   Protocol::icmp6})
        CHECK(protocol_from_name(protocol_name(p)) == p);
    CHECK(protocol_from_name("tcp6") == Protocol::tcp);
    CHECK(protocol_from_number(136) == Protocol::udplite);
    CHECK_FALSE(protocol_from_number(47));
    CHECK(action_from_name("reject") == Action::reject);
    CHECK_FALSE(action_from_name("Allow"));
    CHECK(method_from_name("diag") == Method::diag);
    CHECK(reason_name(Reason::default_action) == "default");
}

TEST_CASE("rule durations parse as OpenSnitch writes them") {
    CHECK(RuleDuration::parse("once")->kind == RuleDuration::Kind::once);
    CHECK(RuleDuration::parse("until restart")->kind == RuleDuration::Kind::until_restart);
    CHECK(RuleDuration::parse("always")->kind == RuleDuration::Kind::always);
    // Not a structured binding: clang (the sanitizer build) cannot capture one in a lambda.
    for (const auto& case_ : std::initializer_list<std::pair<const char*, long>>{{"30s", 30},
                                                                                 {"5m", 300},
                                                                                 {"15m", 900},
                                                                                 {"1h", 3600},
                                                                                 {"12h", 43200},
                                                                                 {"24h", 86400},
                                                                                 {"1h30m", 5400}}) {
        const char* text = case_.first;
        const long secs = case_.second;
        auto d = RuleDuration::parse(text);
        REQUIRE_MESSAGE(d, text);
        CHECK(d->kind == RuleDuration::Kind::timed);
        CHECK(d->span.count() == secs);
        CHECK(d->to_string() == text);
    }
    for (const char* bad : {"", "5", "m", "-5m", "0s", "5d", "1h 5m", "forever"})
        CHECK_MESSAGE(!RuleDuration::parse(bad), bad);
}
