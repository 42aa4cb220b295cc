#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "core/dns/dns_cache.h"
#include "core/dns/dns_learner.h"
#include "core/packet/packet.h"
#include "dns_test_util.h"

using namespace dns_test;
using tsnitch::DnsCache;
using tsnitch::DnsLearner;
using tsnitch::IpAddress;

namespace {

using Bytes = std::vector<uint8_t>;

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

// An IPv4 packet from 10.0.0.53 to 10.0.0.1 around a transport header and payload.
Bytes ipv4(uint8_t protocol, const Bytes& l4) {
    Wire w;
    w.u8(0x45).u8(0).u16(20 + l4.size()).u16(0).u16(0x4000).u8(64).u8(protocol).u16(0);
    w.bytes({10, 0, 0, 53}).bytes({10, 0, 0, 1});
    w.b.insert(w.b.end(), l4.begin(), l4.end());
    return w.b;
}

Bytes udp(uint16_t sport, const Bytes& payload) {
    Wire w;
    w.u16(sport).u16(40000).u16(8 + payload.size()).u16(0);
    w.b.insert(w.b.end(), payload.begin(), payload.end());
    return ipv4(17, w.b);
}

Bytes tcp(uint16_t dport, uint32_t seq, uint8_t flags, const Bytes& payload) {
    Wire w;
    w.u16(53).u16(dport).u32(seq).u32(1).u8(5 << 4).u8(flags).u16(65535).u16(0).u16(0);
    w.b.insert(w.b.end(), payload.begin(), payload.end());
    return ipv4(6, w.b);
}

Bytes answer(std::string_view name, std::initializer_list<uint8_t> v4) {
    Wire w;
    w.response(1).question(name);
    w.pointer(kQuestionName).record(kA, 300, 4).bytes(v4);
    return w.b;
}

tsnitch::Result<size_t> learn(DnsLearner& learner, const Bytes& packet) {
    auto info = tsnitch::parse_packet(packet);
    REQUIRE_MESSAGE(info.ok(), info.error().message);
    return learner.learn(*info);
}

}  // namespace

TEST_CASE("a UDP answer from port 53 names its addresses") {
    DnsCache cache;
    DnsLearner learner(cache);
    auto n = learn(learner, udp(53, answer("example.test", {10, 77, 0, 2})));
    REQUIRE(n.ok());
    CHECK(*n == 1);
    CHECK(cache.lookup(ip("10.77.0.2")) == "example.test");
}

TEST_CASE("packets from other ports, and queries, teach nothing") {
    DnsCache cache;
    DnsLearner learner(cache);
    CHECK(*learn(learner, udp(5353, answer("mdns.test", {10, 0, 0, 9}))) == 0);
    Wire query;
    query.header(1, 0x0100, 1, 1).question("q.test");
    query.pointer(kQuestionName).record(kA, 300, 4).bytes({10, 0, 0, 8});
    CHECK(*learn(learner, udp(53, query.b)) == 0);
    CHECK(cache.size() == 0);
}

TEST_CASE("a malformed answer is an error that names its sender") {
    DnsCache cache;
    DnsLearner learner(cache);
    auto bad = answer("example.test", {10, 77, 0, 2});
    bad.pop_back();
    auto n = learn(learner, udp(53, bad));
    REQUIRE_FALSE(n.ok());
    CHECK(n.error().message.find("10.0.0.53:53") != std::string::npos);
}

TEST_CASE("a TCP answer split over segments is learnt when it is complete") {
    DnsCache cache;
    DnsLearner learner(cache);
    const Bytes framed = Wire{answer("tcp.example.test", {10, 1, 2, 3})}.tcp();
    const Bytes first(framed.begin(), framed.begin() + 20), rest(framed.begin() + 20, framed.end());
    CHECK(*learn(learner, tcp(40000, 7000, kTcpAckPsh, first)) == 0);
    CHECK(learner.tcp_streams() == 1);
    CHECK(*learn(learner, tcp(40000, 7000 + 20, kTcpAckPsh | 0x01, rest)) == 1);  // with FIN
    CHECK(cache.lookup(ip("10.1.2.3")) == "tcp.example.test");
    CHECK(learner.tcp_streams() == 0);
}

TEST_CASE("the number of TCP connections followed is bounded") {
    DnsCache cache;
    DnsLearner learner(cache, 4);
    const Bytes framed = Wire{answer("x.test", {10, 1, 2, 3})}.tcp();
    const Bytes first(framed.begin(), framed.begin() + 5);
    for (uint16_t port = 40000; port < 40010; ++port)
        CHECK(*learn(learner, tcp(port, 1, kTcpAckPsh, first)) == 0);
    CHECK(learner.tcp_streams() == 4);
    // The oldest was dropped; the newest still completes.
    const Bytes rest(framed.begin() + 5, framed.end());
    CHECK(*learn(learner, tcp(40000, 6, kTcpAckPsh, rest)) == 0);
    CHECK(*learn(learner, tcp(40009, 6, kTcpAckPsh, rest)) == 1);
}
