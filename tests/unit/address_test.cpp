#include <arpa/inet.h>
#include <doctest/doctest.h>

#include <cstdint>

#include "core/address.h"

using tsnitch::Family;
using tsnitch::IpAddress;
using tsnitch::IpNetwork;

namespace {
IpAddress ip(const char* s) {
    auto a = IpAddress::parse(s);
    REQUIRE_MESSAGE(a.has_value(), s);
    return *a;
}
}  // namespace

TEST_CASE("IPv4 addresses round-trip through text and bytes") {
    for (const char* s : {"0.0.0.0", "10.0.2.2", "127.0.0.1", "255.255.255.255", "192.168.1.105"}) {
        IpAddress a = ip(s);
        CHECK(a.is_v4());
        CHECK(a.to_string() == s);
        CHECK(a.bytes().size() == 4);
    }
    CHECK(ip("10.0.2.2").v4_host_order() == 0x0a000202u);
    CHECK(IpAddress::v4(0x0a000202u) == ip("10.0.2.2"));
}

TEST_CASE("every IPv4 byte value prints as inet_ntop prints it, in every position") {
    for (unsigned v = 0; v < 256; ++v) {
        for (int pos = 0; pos < 4; ++pos) {
            uint8_t b[4] = {1, 20, 254, 0};
            b[pos] = static_cast<uint8_t>(v);
            char want[INET_ADDRSTRLEN];
            REQUIRE(inet_ntop(AF_INET, b, want, sizeof want) != nullptr);
            const uint32_t host =
                (uint32_t{b[0]} << 24) | (uint32_t{b[1]} << 16) | (uint32_t{b[2]} << 8) | b[3];
            CHECK(IpAddress::v4(host).to_string() == want);
        }
    }
}

TEST_CASE("IPv6 addresses print in RFC 5952 form") {
    CHECK(ip("2001:0DB8:0000:0000:0000:0000:0000:0001").to_string() == "2001:db8::1");
    CHECK(ip("2001:db8:0:0:1:0:0:1").to_string() == "2001:db8::1:0:0:1");  // first longest run
    CHECK(ip("2001:db8:0:1:1:1:1:1").to_string() ==
          "2001:db8:0:1:1:1:1:1");  // one zero group stays
    CHECK(ip("::").to_string() == "::");
    CHECK(ip("::1").to_string() == "::1");
    CHECK(ip("fe80::9fc2:ddcf:df22:aa50").to_string() == "fe80::9fc2:ddcf:df22:aa50");
}

TEST_CASE("fe80::1 is never printed as an IPv4 address") {
    IpAddress a = ip("fe80::1");
    CHECK(a.is_v6());
    CHECK(a.to_string() == "fe80::1");
    CHECK(a.to_string() != "254.128.0.0");
    // From raw bytes too: the family travels with the value, not with a byte count.
    IpAddress b = IpAddress::v6_bytes(std::span<const uint8_t, 16>(a.bytes().data(), 16));
    CHECK(b.to_string() == "fe80::1");
    CHECK(b == a);
}

TEST_CASE("IPv4-mapped IPv6 addresses are recognised and convert both ways") {
    IpAddress m = ip("::ffff:10.0.2.2");
    CHECK(m.is_v6());
    CHECK(m.is_v4_mapped());
    CHECK(m.to_string() == "::ffff:10.0.2.2");
    CHECK(m.unmapped() == ip("10.0.2.2"));
    CHECK(ip("10.0.2.2").mapped_v6() == m);
    CHECK_FALSE(ip("::1").is_v4_mapped());
    CHECK(ip("::ffff:127.0.0.1").is_loopback());
    CHECK(ip("10.0.2.2").unmapped() == ip("10.0.2.2"));
}

TEST_CASE("link-local addresses keep their scope id") {
    IpAddress a = ip("fe80::1%1");
    CHECK(a.is_link_local());
    CHECK(a.scope_id() == 1);
    CHECK(a.to_string() == "fe80::1%lo");  // interface 1 is the loopback interface
    CHECK(ip("fe80::1%lo").scope_id() == 1);
    CHECK_FALSE(IpAddress::parse("2001:db8::1%1").has_value());  // global addresses have no zone
    CHECK_FALSE(IpAddress::parse("fe80::1%no-such-if0").has_value());
    CHECK(ip("169.254.3.4").is_link_local());
    CHECK(a != ip("fe80::1"));
}

TEST_CASE("address classes") {
    CHECK(ip("0.0.0.0").is_unspecified());
    CHECK(ip("::").is_unspecified());
    CHECK(IpAddress::any(Family::v6).is_unspecified());
    CHECK(ip("127.0.0.53").is_loopback());
    CHECK(ip("::1").is_loopback());
    CHECK(ip("239.255.255.250").is_multicast());
    CHECK(ip("ff02::fb").is_multicast());
    CHECK(ip("255.255.255.255").is_broadcast());
    CHECK_FALSE(ip("192.168.1.255").is_broadcast());  // a subnet broadcast needs the netmask
    CHECK_FALSE(ip("10.0.0.1").is_loopback());
}

TEST_CASE("bad text is refused, not guessed") {
    for (const char* s : {"", "1.2.3", "1.2.3.4.5", "256.1.1.1", "1.2.3.4/8", "::g",
                          "1:2:3:4:5:6:7:8:9", "fe80::1%", "localhost", " 1.2.3.4"}) {
        CHECK_MESSAGE(!IpAddress::parse(s).has_value(), s);
    }
}

TEST_CASE("networks") {
    auto n = IpNetwork::parse("192.168.1.77/24");
    REQUIRE(n);
    CHECK(n->to_string() == "192.168.1.0/24");
    CHECK(n->contains(ip("192.168.1.5")));
    CHECK(n->contains(ip("::ffff:192.168.1.5")));  // IPv4 packets of dual-stack sockets
    CHECK_FALSE(n->contains(ip("192.168.2.5")));
    auto v6 = IpNetwork::parse("2001:db8:1:2::/64");
    REQUIRE(v6);
    CHECK(v6->contains(ip("2001:db8:1:2:aaaa::1")));
    CHECK_FALSE(v6->contains(ip("2001:db8:1:3::1")));
    CHECK(IpNetwork::parse("10.1.2.3")->prefix == 32);
    CHECK(IpNetwork::parse("0.0.0.0/0")->contains(ip("8.8.8.8")));
    CHECK_FALSE(IpNetwork::parse("0.0.0.0/0")->contains(ip("::1")));
    CHECK_FALSE(IpNetwork::parse("10.0.0.0/33"));
    CHECK_FALSE(IpNetwork::parse("10.0.0.0/"));
    CHECK_FALSE(IpNetwork::parse("10.0.0.0/x"));
    CHECK(ip("10.0.2.77").masked(24) == ip("10.0.2.0"));
    CHECK(ip("2001:db8::1:2:3:4").masked(64) == ip("2001:db8::"));
}

TEST_CASE("an endpoint is written with the IPv6 address in brackets") {
    CHECK(endpoint_text(*IpAddress::parse("10.0.2.2"), 53) == "10.0.2.2:53");
    CHECK(endpoint_text(*IpAddress::parse("fe80::1"), 53) == "[fe80::1]:53");
    CHECK(address_before_port(*IpAddress::parse("2001:db8::1")) == "[2001:db8::1]");
    CHECK(address_before_port(*IpAddress::parse("10.0.2.2")) == "10.0.2.2");
}
