// The sockets that the exact query misses: real cases from OpenSnitch's bug reports, each as the
// packet and what the kernel holds on its source port.
#include <doctest/doctest.h>

#include <vector>

#include "core/attribution/socket_match.h"

using namespace tsnitch;

namespace {

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

Connection packet(Protocol p, uint16_t sport, const char* src, const char* dst, uint16_t dport) {
    Connection c;
    c.protocol = p;
    c.src_port = sport;
    c.src = ip(src);
    c.dst = ip(dst);
    c.dst_port = dport;
    return c;
}

InetSocket sock(Protocol p, uint16_t sport, const char* src, const char* dst, uint16_t dport,
                uint64_t inode, uint8_t state = 7) {
    InetSocket s;
    s.protocol = p;
    s.src = ip(src);
    s.dst = ip(dst);
    s.family = s.src.family();
    s.src_port = sport;
    s.dst_port = dport;
    s.inode = inode;
    s.state = state;
    return s;
}

uint64_t winner(const std::vector<InetSocket>& held, const Connection& c) {
    auto s = best_match(held, c);
    return s ? s->inode : 0;
}

// A decoy of every kind beside the right socket: the right one must still win.
std::vector<InetSocket> with_decoys(InetSocket right) {
    std::vector<InetSocket> v;
    v.push_back(sock(Protocol::tcp, right.src_port, "0.0.0.0", "0.0.0.0", 0, 900));  // other proto
    v.push_back(sock(right.protocol, right.src_port + 1, "0.0.0.0", "0.0.0.0", 0, 901));  // port
    v.push_back(right);
    return v;
}

}  // namespace

TEST_CASE("broadcast from a socket bound to another address of the machine") {
    auto c = packet(Protocol::udp, 8612, "192.168.1.5", "192.168.1.255", 8612);
    auto held = with_decoys(sock(Protocol::udp, 8612, "192.168.1.105", "0.0.0.0", 0, 1));
    CHECK(winner(held, c) == 1);
}

TEST_CASE("NTP from a wildcard-bound socket") {
    auto c = packet(Protocol::udp, 123, "192.168.1.5", "217.144.138.234", 123);
    auto held = with_decoys(sock(Protocol::udp, 123, "0.0.0.0", "0.0.0.0", 0, 2));
    CHECK(winner(held, c) == 2);
}

TEST_CASE("SSDP multicast from a loopback-bound socket") {
    auto c = packet(Protocol::udp, 45015, "127.0.0.1", "239.255.255.250", 1900);
    auto held = with_decoys(sock(Protocol::udp, 45015, "127.0.0.1", "0.0.0.0", 0, 3));
    CHECK(winner(held, c) == 3);
}

TEST_CASE("an IPv6 link-local DNS query finds the IPv6 socket and it prints as IPv6") {
    auto c = packet(Protocol::udp, 50416, "fe80::9fc2:ddcf:df22:aa50", "fe80::1", 53);
    std::vector<InetSocket> held = {
        sock(Protocol::udp, 50416, "0.0.0.0", "0.0.0.0", 0, 40),  // an IPv4 socket can't send it
        sock(Protocol::udp, 50416, "fe80::9fc2:ddcf:df22:aa50", "::", 0, 4),
    };
    auto s = best_match(held, c);
    REQUIRE(s);
    CHECK(s->inode == 4);
    CHECK(s->family == Family::v6);
    CHECK(s->src.to_string() == "fe80::9fc2:ddcf:df22:aa50");
    CHECK_FALSE(match_score(held[0], c));
}

TEST_CASE("a torrent client's wildcard socket") {
    auto c = packet(Protocol::udp, 51413, "192.168.1.106", "103.224.182.250", 1337);
    auto held = with_decoys(sock(Protocol::udp, 51413, "0.0.0.0", "0.0.0.0", 0, 5));
    CHECK(winner(held, c) == 5);
}

TEST_CASE("sockets sharing a port (SO_REUSEADDR/SO_REUSEPORT): the one whose addresses match") {
    SUBCASE("bound to the packet's source beats the wildcard") {
        auto c = packet(Protocol::udp, 5353, "10.0.0.7", "224.0.0.251", 5353);
        std::vector<InetSocket> held = {sock(Protocol::udp, 5353, "0.0.0.0", "0.0.0.0", 0, 60),
                                        sock(Protocol::udp, 5353, "10.0.0.7", "0.0.0.0", 0, 61),
                                        sock(Protocol::udp, 5353, "10.0.0.8", "0.0.0.0", 0, 62)};
        CHECK(winner(held, c) == 61);
    }
    SUBCASE("an IPv4 packet: the IPv4 wildcard beats the IPv6 one; IPv6-only never matches") {
        auto c = packet(Protocol::udp, 5353, "10.0.0.7", "224.0.0.251", 5353);
        auto v6only = sock(Protocol::udp, 5353, "::", "::", 0, 70);
        v6only.v6only = true;
        std::vector<InetSocket> held = {v6only, sock(Protocol::udp, 5353, "::", "::", 0, 71),
                                        sock(Protocol::udp, 5353, "0.0.0.0", "0.0.0.0", 0, 72)};
        CHECK(winner(held, c) == 72);
        CHECK_FALSE(match_score(v6only, c));
        held.pop_back();
        CHECK(winner(held, c) == 71);  // dual-stack wildcard
    }
    SUBCASE("an IPv6 packet: the IPv6 socket, never the IPv4 one") {
        auto c = packet(Protocol::udp, 5353, "fd00::7", "ff02::fb", 5353);
        std::vector<InetSocket> held = {sock(Protocol::udp, 5353, "0.0.0.0", "0.0.0.0", 0, 80),
                                        sock(Protocol::udp, 5353, "::", "::", 0, 81)};
        CHECK(winner(held, c) == 81);
    }
    SUBCASE("two connected TCP sockets on one port: the one with the packet's peer") {
        auto c = packet(Protocol::tcp, 40000, "10.0.0.7", "1.1.1.1", 443);
        std::vector<InetSocket> held = {
            sock(Protocol::tcp, 40000, "10.0.0.7", "8.8.8.8", 443, 90, 1),
            sock(Protocol::tcp, 40000, "10.0.0.7", "1.1.1.1", 443, 91, 1),
            sock(Protocol::tcp, 40000, "0.0.0.0", "0.0.0.0", 0, 92, 10),  // a listener
        };
        CHECK(winner(held, c) == 91);
        CHECK_FALSE(match_score(held[0], c));  // TCP can't send to another peer
    }
}

TEST_CASE("an IPv4 packet of a dual-stack socket matches its ::ffff: addresses") {
    auto c = packet(Protocol::tcp, 41000, "10.0.0.7", "10.0.0.9", 80);
    std::vector<InetSocket> held = {
        sock(Protocol::tcp, 41000, "::ffff:10.0.0.7", "::ffff:10.0.0.8", 80, 100, 1),
        sock(Protocol::tcp, 41000, "::ffff:10.0.0.7", "::ffff:10.0.0.9", 80, 101, 1),
    };
    CHECK(winner(held, c) == 101);
    auto exact = match_score(held[1], c);
    auto wildcard = match_score(sock(Protocol::tcp, 41000, "::", "::", 0, 102), c);
    REQUIRE(exact);
    REQUIRE(wildcard);
    CHECK(*exact > *wildcard);
}

TEST_CASE("the ranking of DESIGN.md: exact > same destination > bound to source > wildcard") {
    auto c = packet(Protocol::udp, 6000, "10.0.0.7", "10.0.0.9", 53);
    std::vector<InetSocket> held = {
        sock(Protocol::udp, 6000, "0.0.0.0", "0.0.0.0", 0, 1),
        sock(Protocol::udp, 6000, "10.0.0.7", "0.0.0.0", 0, 2),
        sock(Protocol::udp, 6000, "10.0.0.6", "10.0.0.9", 53, 3),
        sock(Protocol::udp, 6000, "10.0.0.7", "10.0.0.9", 53, 4),
    };
    for (uint64_t expect = 4; expect >= 1; --expect) {
        CHECK(winner(held, c) == expect);
        held.pop_back();
    }
    CHECK(winner(held, c) == 0);  // nothing on the port: nothing found, no guess
}
