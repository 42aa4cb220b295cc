#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/packet/packet.h"

using namespace tsnitch;

namespace {

using Bytes = std::vector<uint8_t>;

constexpr uint8_t kTcp = 6, kUdp = 17, kIcmp = 1, kIcmp6 = 58, kSctp = 132, kUdpLite = 136;
constexpr uint8_t kHopByHop = 0, kRouting = 43, kFragment = 44, kAh = 51, kDestOpts = 60;

void put16(Bytes& b, size_t off, uint16_t v) {
    b[off] = static_cast<uint8_t>(v >> 8);
    b[off + 1] = static_cast<uint8_t>(v);
}

Bytes cat(Bytes a, const Bytes& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
}

Bytes text(std::string_view s) {
    return Bytes(s.begin(), s.end());
}

// Transport headers. Checksums stay zero: the parser does not verify them (the kernel did).
Bytes tcp(uint16_t sport, uint16_t dport, uint8_t flags, Bytes options = {}, Bytes payload = {}) {
    while (options.size() % 4)
        options.push_back(1);  // NOP padding
    Bytes h(20);
    put16(h, 0, sport);
    put16(h, 2, dport);
    h[12] = static_cast<uint8_t>((20 + options.size()) / 4 << 4);
    h[13] = flags;
    put16(h, 14, 64240);
    return cat(cat(h, options), payload);
}

Bytes udp(uint16_t sport, uint16_t dport, Bytes payload = {}) {
    Bytes h(8);
    put16(h, 0, sport);
    put16(h, 2, dport);
    put16(h, 4, static_cast<uint16_t>(8 + payload.size()));
    return cat(h, payload);
}

Bytes udplite(uint16_t sport, uint16_t dport, uint16_t coverage, Bytes payload = {}) {
    Bytes h(8);
    put16(h, 0, sport);
    put16(h, 2, dport);
    put16(h, 4, coverage);
    return cat(h, payload);
}

Bytes sctp(uint16_t sport, uint16_t dport) {
    Bytes h(12);
    put16(h, 0, sport);
    put16(h, 2, dport);
    h[4] = 0xde;  // verification tag
    // An INIT chunk: type 1, flags, length 20, then tag, window, streams, initial TSN.
    Bytes init = {1, 0, 0, 20, 0, 0, 0, 1, 0, 1, 0, 0, 0, 10, 0, 10, 0, 0, 0, 1};
    return cat(h, init);
}

Bytes icmp(uint8_t type, uint8_t code, Bytes payload = {}) {
    Bytes h = {type, code, 0, 0, 0x12, 0x34, 0, 1};
    return cat(h, payload);
}

const uint8_t kSrc4[4] = {10, 0, 2, 15};
const uint8_t kDst4[4] = {140, 82, 121, 4};

Bytes ipv4(uint8_t proto, const Bytes& l4, Bytes options = {}, uint16_t frag = 0) {
    while (options.size() % 4)
        options.push_back(0);  // EOL padding
    Bytes h(20);
    h[0] = static_cast<uint8_t>(0x40 | (20 + options.size()) / 4);
    put16(h, 2, static_cast<uint16_t>(20 + options.size() + l4.size()));
    put16(h, 4, 0x1c46);
    put16(h, 6, frag);
    h[8] = 64;
    h[9] = proto;
    std::copy(kSrc4, kSrc4 + 4, h.begin() + 12);
    std::copy(kDst4, kDst4 + 4, h.begin() + 16);
    return cat(cat(h, options), l4);
}

Bytes ipv6(uint8_t next, const Bytes& rest) {
    Bytes h(40);
    h[0] = 0x60;
    put16(h, 4, static_cast<uint16_t>(rest.size()));
    h[6] = next;
    h[7] = 64;
    const Bytes src = {0xfe, 0x80, 0,    0,    0,    0,    0,    0,
                       0x9f, 0xc2, 0xdd, 0xcf, 0xdf, 0x22, 0xaa, 0x50};
    const Bytes dst = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x53};
    std::copy(src.begin(), src.end(), h.begin() + 8);
    std::copy(dst.begin(), dst.end(), h.begin() + 24);
    return cat(h, rest);
}

// Hop-by-hop or destination options: `options` as TLVs, padded with Pad1 to 8-byte units.
Bytes options_header(uint8_t next, Bytes options) {
    Bytes h = cat({next, 0}, options);
    while (h.size() % 8)
        h.push_back(0);
    h[1] = static_cast<uint8_t>(h.size() / 8 - 1);
    return h;
}

Bytes routing_header(uint8_t next) {
    // Type 2 (mobile IPv6 home address): one 16-byte address after 8 bytes.
    Bytes h = {next, 2, 2, 1, 0, 0, 0, 0};
    h.resize(24, 0x11);
    return h;
}

Bytes fragment_header(uint8_t next, uint16_t offset_units, bool more) {
    Bytes h = {next, 0, 0, 0, 0xab, 0xcd, 0xef, 0x01};
    put16(h, 2, static_cast<uint16_t>(offset_units << 3 | (more ? 1 : 0)));
    return h;
}

Bytes auth_header(uint8_t next) {
    // 12 fixed bytes and a 12-byte ICV: 24 bytes, length field 24/4 - 2.
    Bytes h = {next, 4, 0, 0, 0, 0, 1, 0, 0, 0, 0, 7};
    h.resize(24, 0x5a);
    return h;
}

const Bytes kRouterAlert = {5, 2, 0, 0};  // hop-by-hop router alert option

PacketInfo parse_ok(const Bytes& b) {
    auto r = parse_packet(b);
    REQUIRE_MESSAGE(r.ok(), r.error().message);
    return *r;
}

std::string parse_error(const Bytes& b) {
    auto r = parse_packet(b);
    REQUIRE_MESSAGE(!r.ok(), "parsed a malformed packet");
    return r.error().message;
}

// The payload must lie inside the input buffer.
bool payload_inside(const PacketInfo& p, const Bytes& b) {
    if (p.payload.empty()) return true;
    return p.payload.data() >= b.data() &&
           p.payload.data() + p.payload.size() <= b.data() + b.size();
}

size_t payload_offset(const PacketInfo& p, const Bytes& b) {
    return static_cast<size_t>(p.payload.data() - b.data());
}

struct Sample {
    const char* name;
    Bytes bytes;
};

std::vector<Sample> samples() {
    // A DNS query for github.com A.
    Bytes dns = cat({0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 6},
                    cat(text("github"), cat({3}, cat(text("com"), {0, 0, 1, 0, 1}))));
    Bytes mss = {2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0};
    Bytes ts_nop = {1, 1, 8, 10, 0, 0, 0, 2, 0, 0, 0, 3};
    return {
        {"tcp4 syn", ipv4(kTcp, tcp(54321, 443, kTcpSyn, mss))},
        {"tcp4 data", ipv4(kTcp, tcp(54321, 443, 0x18, ts_nop, text("GET / HTTP/1.1\r\n")))},
        {"tcp4 options", ipv4(kTcp, tcp(1, 2, kTcpSyn), {148, 4, 0, 0, 1, 1, 0})},
        {"udp4 dns", ipv4(kUdp, udp(40000, 53, dns))},
        {"udplite4", ipv4(kUdpLite, udplite(5000, 5001, 8, text("lite")))},
        {"sctp4", ipv4(kSctp, sctp(3868, 3868))},
        {"icmp4 echo", ipv4(kIcmp, icmp(8, 0, text("ping")))},
        {"udp4 first fragment", ipv4(kUdp, udp(40000, 53, dns), {}, 0x2000)},
        {"tcp6 syn", ipv6(kTcp, tcp(50416, 443, kTcpSyn, mss))},
        {"udp6 dns", ipv6(kUdp, udp(50416, 53, dns))},
        {"udplite6", ipv6(kUdpLite, udplite(5000, 5001, 0, text("lite")))},
        {"sctp6", ipv6(kSctp, sctp(3868, 3868))},
        {"icmp6 echo", ipv6(kIcmp6, icmp(128, 0, text("ping")))},
        {"udp6 hop-by-hop", ipv6(kHopByHop, cat(options_header(kUdp, kRouterAlert), udp(1, 53)))},
        {"tcp6 routing", ipv6(kRouting, cat(routing_header(kTcp), tcp(1000, 22, kTcpSyn)))},
        {"udp6 destination options",
         ipv6(kDestOpts, cat(options_header(kUdp, {1, 2, 0, 0}), udp(7, 8)))},
        {"tcp6 authentication header", ipv6(kAh, cat(auth_header(kTcp), tcp(1, 2, kTcpSyn)))},
        {"udp6 first fragment",
         ipv6(kFragment, cat(fragment_header(kUdp, 0, true), udp(9, 53, dns)))},
        {"udp6 every extension header",
         ipv6(kHopByHop,
              cat(cat(cat(cat(options_header(kDestOpts, kRouterAlert),
                              options_header(kRouting, {1, 0})),
                          routing_header(kFragment)),
                      fragment_header(kAh, 0, false)),
                  cat(auth_header(kDestOpts), cat(options_header(kUdp, {}), udp(11, 12)))))},
    };
}

// The minimum transport header of each protocol.
size_t min_transport_header(Protocol p) {
    switch (p) {
        case Protocol::tcp:
            return 20;
        case Protocol::sctp:
            return 12;
        default:
            return 8;
    }
}

// Sets the IP length field so that it agrees with the buffer size (to reach the inner layers).
void fix_ip_length(Bytes& b) {
    if (b.empty()) return;
    if (b[0] >> 4 == 4 && b.size() >= 4) put16(b, 2, static_cast<uint16_t>(b.size()));
    if (b[0] >> 4 == 6 && b.size() >= 6) put16(b, 4, static_cast<uint16_t>(b.size() - 40));
}

}  // namespace

TEST_CASE("a TCP SYN gives its sequence number, which tells a retransmit from a new connection") {
    Bytes h = tcp(54321, 443, kTcpSyn);
    put16(h, 4, 0x8badu);
    put16(h, 6, 0xf00du);
    Bytes b = ipv4(kTcp, h);
    CHECK(parse_ok(b).tcp_seq == 0x8badf00du);
}

TEST_CASE("an IPv4 TCP SYN gives its addresses, ports and flags") {
    Bytes b = ipv4(kTcp, tcp(54321, 443, kTcpSyn));
    PacketInfo p = parse_ok(b);
    CHECK(p.protocol == Protocol::tcp);
    CHECK(p.src.to_string() == "10.0.2.15");
    CHECK(p.dst.to_string() == "140.82.121.4");
    CHECK(p.src_port == 54321);
    CHECK(p.dst_port == 443);
    CHECK(p.tcp_flags == kTcpSyn);
    CHECK(p.is_tcp_syn());
    CHECK(p.tcp_seq == 0);
    CHECK(p.l4_offset == 20);
    CHECK(p.payload.empty());
    CHECK_FALSE(p.fragment);
    CHECK_FALSE(p.later_fragment);

    Bytes synack = ipv4(kTcp, tcp(443, 54321, kTcpSyn | kTcpAck));
    CHECK_FALSE(parse_ok(synack).is_tcp_syn());
    CHECK(parse_ok(synack).tcp_flags == (kTcpSyn | kTcpAck));
}

TEST_CASE("TCP options are skipped and the payload points into the packet") {
    Bytes opts = {2, 4, 0x05, 0xb4, 1, 1, 4, 2};
    Bytes b = ipv4(kTcp, tcp(1234, 80, 0x18, opts, text("GET /")));
    PacketInfo p = parse_ok(b);
    CHECK(p.tcp_flags == 0x18);
    CHECK(p.l4_offset == 20);
    REQUIRE(p.payload.size() == 5);
    CHECK(payload_offset(p, b) == 20 + 28);
    CHECK(std::string(p.payload.begin(), p.payload.end()) == "GET /");
}

TEST_CASE("IPv4 options move the transport header") {
    // Router alert (148, length 4), then NOP, NOP, EOL padding: IHL 7.
    Bytes b = ipv4(kUdp, udp(5353, 53, text("q")), {148, 4, 0, 0, 1, 1, 0, 0});
    CHECK(b[0] == 0x47);
    PacketInfo p = parse_ok(b);
    CHECK(p.l4_offset == 28);
    CHECK(p.src_port == 5353);
    CHECK(p.dst_port == 53);
    CHECK(std::string(p.payload.begin(), p.payload.end()) == "q");

    // Everything after the end-of-list option is padding, whatever it holds.
    Bytes eol = ipv4(kTcp, tcp(1, 2, kTcpSyn), {0, 0xff, 0xff, 0xff});
    CHECK(parse_ok(eol).l4_offset == 24);
}

TEST_CASE("UDP payload ends at the UDP length, not at trailing link-layer padding") {
    Bytes b = ipv4(kUdp, udp(40000, 53, text("dns")));
    b.resize(b.size() + 10, 0);  // Ethernet pads short frames; the IP total length excludes it
    PacketInfo p = parse_ok(b);
    CHECK(p.protocol == Protocol::udp);
    CHECK(std::string(p.payload.begin(), p.payload.end()) == "dns");
}

TEST_CASE("UDPLite, SCTP and ICMP are recognised in both families") {
    PacketInfo lite4 = parse_ok(ipv4(kUdpLite, udplite(5000, 5001, 8, text("abc"))));
    CHECK(lite4.protocol == Protocol::udplite);
    CHECK(lite4.src_port == 5000);
    CHECK(lite4.dst_port == 5001);
    CHECK(lite4.payload.size() == 3);
    PacketInfo lite6 = parse_ok(ipv6(kUdpLite, udplite(6000, 6001, 0, text("abcd"))));
    CHECK(lite6.protocol == Protocol::udplite);
    CHECK(lite6.dst_port == 6001);
    CHECK(lite6.payload.size() == 4);

    PacketInfo sctp4 = parse_ok(ipv4(kSctp, sctp(3868, 2905)));
    CHECK(sctp4.protocol == Protocol::sctp);
    CHECK(sctp4.src_port == 3868);
    CHECK(sctp4.dst_port == 2905);
    CHECK(sctp4.payload.size() == 20);  // the INIT chunk
    PacketInfo sctp6 = parse_ok(ipv6(kSctp, sctp(5060, 5061)));
    CHECK(sctp6.protocol == Protocol::sctp);
    CHECK(sctp6.src_port == 5060);
    CHECK(sctp6.dst_port == 5061);

    PacketInfo icmp4 = parse_ok(ipv4(kIcmp, icmp(8, 0, text("ping"))));
    CHECK(icmp4.protocol == Protocol::icmp);
    CHECK(icmp4.icmp_type == 8);
    CHECK(icmp4.src_port == 0);
    CHECK(icmp4.dst_port == 0);
    CHECK(icmp4.payload.size() == 4);
    PacketInfo unreachable = parse_ok(ipv4(kIcmp, icmp(3, 3)));
    CHECK(unreachable.icmp_type == 3);
    CHECK(unreachable.icmp_code == 3);

    PacketInfo icmp6 = parse_ok(ipv6(kIcmp6, icmp(128, 0)));
    CHECK(icmp6.protocol == Protocol::icmp6);
    CHECK(icmp6.icmp_type == 128);
    CHECK(icmp6.src.to_string() == "fe80::9fc2:ddcf:df22:aa50");
    CHECK(icmp6.dst.to_string() == "2001:db8::53");
}

TEST_CASE("IPv6 TCP and UDP give v6 addresses, never v4-looking ones") {
    PacketInfo t = parse_ok(ipv6(kTcp, tcp(50416, 443, kTcpSyn)));
    CHECK(t.protocol == Protocol::tcp);
    CHECK(t.src.is_v6());
    CHECK(t.dst.to_string() == "2001:db8::53");
    CHECK(t.src_port == 50416);
    CHECK(t.is_tcp_syn());
    CHECK(t.l4_offset == 40);
    Bytes ub = ipv6(kUdp, udp(50416, 53, text("query")));
    PacketInfo u = parse_ok(ub);
    CHECK(u.protocol == Protocol::udp);
    CHECK(u.dst_port == 53);
    CHECK(payload_offset(u, ub) == 48);
    CHECK(std::string(u.payload.begin(), u.payload.end()) == "query");
}

TEST_CASE("each IPv6 extension header is skipped to reach the transport header") {
    SUBCASE("hop-by-hop options") {
        Bytes b = ipv6(kHopByHop, cat(options_header(kUdp, kRouterAlert), udp(1, 53)));
        PacketInfo p = parse_ok(b);
        CHECK(p.protocol == Protocol::udp);
        CHECK(p.l4_offset == 48);
        CHECK(p.dst_port == 53);
    }
    SUBCASE("routing") {
        PacketInfo p = parse_ok(ipv6(kRouting, cat(routing_header(kTcp), tcp(1000, 22, kTcpSyn))));
        CHECK(p.protocol == Protocol::tcp);
        CHECK(p.l4_offset == 64);
        CHECK(p.dst_port == 22);
    }
    SUBCASE("destination options with PadN") {
        Bytes opts = {1, 4, 0, 0, 0, 0};  // PadN of 4 bytes
        PacketInfo p = parse_ok(ipv6(kDestOpts, cat(options_header(kSctp, opts), sctp(7, 9))));
        CHECK(p.protocol == Protocol::sctp);
        CHECK(p.l4_offset == 48);
        CHECK(p.dst_port == 9);
    }
    SUBCASE("authentication header") {
        PacketInfo p = parse_ok(ipv6(kAh, cat(auth_header(kTcp), tcp(3, 4, kTcpSyn))));
        CHECK(p.protocol == Protocol::tcp);
        CHECK(p.l4_offset == 64);
        CHECK(p.src_port == 3);
    }
    SUBCASE("an atomic fragment (offset 0, no more fragments)") {
        PacketInfo p =
            parse_ok(ipv6(kFragment, cat(fragment_header(kIcmp6, 0, false), icmp(129, 0))));
        CHECK(p.protocol == Protocol::icmp6);
        CHECK(p.icmp_type == 129);
        CHECK(p.l4_offset == 48);
        CHECK_FALSE(p.fragment);
    }
    SUBCASE("all of them chained") {
        Bytes chain =
            cat(cat(options_header(kDestOpts, kRouterAlert), options_header(kRouting, {})),
                cat(routing_header(kAh), auth_header(kUdp)));
        Bytes b = ipv6(kHopByHop, cat(chain, udp(11, 12, text("x"))));
        PacketInfo p = parse_ok(b);
        CHECK(p.protocol == Protocol::udp);
        CHECK(p.l4_offset == 40 + 8 + 8 + 24 + 24);
        CHECK(p.src_port == 11);
        CHECK(p.dst_port == 12);
        CHECK(payload_offset(p, b) == p.l4_offset + 8);
    }
}

TEST_CASE("IPv4 fragments: the first has ports, later ones have none") {
    Bytes dns = text("0123456789abcdef");
    // First fragment: more-fragments set, UDP length covers the whole datagram.
    Bytes first_l4 = udp(40000, 53, dns);
    first_l4.resize(16);
    PacketInfo first = parse_ok(ipv4(kUdp, first_l4, {}, 0x2000));
    CHECK(first.fragment);
    CHECK_FALSE(first.later_fragment);
    CHECK(first.protocol == Protocol::udp);
    CHECK(first.src_port == 40000);
    CHECK(first.dst_port == 53);
    CHECK(first.payload.size() == 8);

    Bytes later_b = ipv4(kUdp, text("89abcdef"), {}, 2);  // offset 2 * 8 bytes
    PacketInfo later = parse_ok(later_b);
    CHECK(later.fragment);
    CHECK(later.later_fragment);
    CHECK(later.protocol == Protocol::udp);
    CHECK(later.src_port == 0);
    CHECK(later.dst_port == 0);
    CHECK(later.l4_offset == 20);
    CHECK(later.payload.size() == 8);
    CHECK(payload_inside(later, later_b));

    // The last fragment (no more-fragments flag, offset != 0) is a later fragment too, even when
    // its bytes look like a TCP header.
    PacketInfo last = parse_ok(ipv4(kTcp, tcp(1, 2, kTcpSyn), {}, 0x0100));
    CHECK(last.later_fragment);
    CHECK(last.src_port == 0);
    CHECK(last.tcp_flags == 0);
}

TEST_CASE("IPv6 fragments: the first has ports, later ones have none") {
    Bytes first_l4 = tcp(50000, 443, kTcpSyn, {}, text("hello"));
    PacketInfo first = parse_ok(ipv6(kFragment, cat(fragment_header(kTcp, 0, true), first_l4)));
    CHECK(first.fragment);
    CHECK_FALSE(first.later_fragment);
    CHECK(first.src_port == 50000);
    CHECK(first.dst_port == 443);

    // A first fragment cut inside the UDP payload: the UDP length is not held against it.
    Bytes cut = udp(9, 53, text("0123456789"));
    cut.resize(12);
    PacketInfo cut_p = parse_ok(ipv6(kFragment, cat(fragment_header(kUdp, 0, true), cut)));
    CHECK(cut_p.dst_port == 53);
    CHECK(cut_p.payload.size() == 4);

    Bytes later_b = ipv6(kFragment, cat(fragment_header(kUdp, 3, true), text("middle..")));
    PacketInfo later = parse_ok(later_b);
    CHECK(later.later_fragment);
    CHECK(later.fragment);
    CHECK(later.protocol == Protocol::udp);
    CHECK(later.src_port == 0);
    CHECK(later.dst_port == 0);
    CHECK(later.l4_offset == 48);
    CHECK(payload_offset(later, later_b) == 48);
    CHECK(later.payload.size() == 8);

    // Extension headers before the fragment header are part of every fragment.
    PacketInfo behind_hbh = parse_ok(ipv6(
        kHopByHop, cat(options_header(kFragment, {}),
                       cat(fragment_header(kSctp, 100, false), text("tail of an SCTP packet")))));
    CHECK(behind_hbh.later_fragment);
    CHECK(behind_hbh.protocol == Protocol::sctp);
    CHECK(behind_hbh.l4_offset == 56);
}

TEST_CASE("jumbo and GSO-sized packets take their length from the buffer") {
    // IPv6 jumbogram (RFC 2675): payload length 0, jumbo option in hop-by-hop, UDP length 0.
    Bytes data(70000, 0x61);
    Bytes jumbo_opt = {0xc2, 4, 0, 0, 0, 0};
    Bytes rest = cat(options_header(kUdp, jumbo_opt), udp(1, 2));
    rest = cat(rest, data);
    Bytes b = ipv6(kHopByHop, rest);
    put16(b, 4, 0);
    uint32_t jlen = static_cast<uint32_t>(rest.size());
    b[40 + 4] = static_cast<uint8_t>(jlen >> 24);
    b[40 + 5] = static_cast<uint8_t>(jlen >> 16);
    b[40 + 6] = static_cast<uint8_t>(jlen >> 8);
    b[40 + 7] = static_cast<uint8_t>(jlen);
    put16(b, 48 + 4, 0);
    PacketInfo p = parse_ok(b);
    CHECK(p.protocol == Protocol::udp);
    CHECK(p.payload.size() == 70000);

    // A jumbo length larger than the buffer is refused.
    b[40 + 5] = 0x7f;
    CHECK(parse_error(b).find("jumbo payload length") != std::string::npos);

    // IPv4 BIG TCP: total length 0 on a GSO packet above 64 KiB.
    Bytes big = ipv4(kTcp, cat(tcp(1, 2, kTcpAck), data));
    put16(big, 2, 0);
    PacketInfo bp = parse_ok(big);
    CHECK(bp.payload.size() == 70000);
    // IPv6 BIG TCP: payload length 0 and no hop-by-hop header.
    Bytes big6 = ipv6(kTcp, cat(tcp(1, 2, kTcpAck), data));
    put16(big6, 4, 0);
    CHECK(parse_ok(big6).payload.size() == 70000);
    // A small packet with total length 0 is malformed.
    Bytes small = ipv4(kTcp, tcp(1, 2, kTcpAck));
    put16(small, 2, 0);
    CHECK(parse_error(small).find("total length 0") != std::string::npos);
}

TEST_CASE("malformed IP headers are errors that say what is wrong") {
    Bytes good4 = ipv4(kTcp, tcp(1, 2, kTcpSyn));
    Bytes good6 = ipv6(kTcp, tcp(1, 2, kTcpSyn));

    CHECK(parse_error({}) == "packet: empty");
    Bytes v5 = good4;
    v5[0] = 0x55;
    CHECK(parse_error(v5) == "packet: IP version 5 is neither 4 nor 6");
    Bytes v0 = good6;
    v0[0] = 0x00;
    CHECK(parse_error(v0).find("IP version 0") != std::string::npos);

    Bytes ihl4 = good4;
    ihl4[0] = 0x44;
    CHECK(parse_error(ihl4) == "IPv4: header length 16 (IHL 4) is below the minimum of 20");
    Bytes ihl15 = good4;
    ihl15[0] = 0x4f;  // 60 bytes of header in a 40-byte packet
    CHECK(parse_error(ihl15).find("IPv4: truncated header with options") == 0);

    Bytes long4 = good4;
    put16(long4, 2, static_cast<uint16_t>(good4.size() + 1));
    CHECK(parse_error(long4) == "IPv4: total length 41 exceeds the 40 bytes received");
    Bytes short4 = good4;
    put16(short4, 2, 19);
    CHECK(parse_error(short4) == "IPv4: total length 19 is below the header length 20");

    Bytes long6 = good6;
    put16(long6, 4, 21);
    CHECK(parse_error(long6) == "IPv6: payload length 21 exceeds the 20 bytes after the header");

    CHECK(parse_error(Bytes(good6.begin(), good6.begin() + 39)) ==
          "IPv6: truncated header at offset 0 (40 bytes needed, 39 left)");
}

TEST_CASE("malformed IPv4 options are errors") {
    // An option whose length runs past the header end.
    CHECK(parse_error(ipv4(kTcp, tcp(1, 2, kTcpSyn), {148, 8, 0, 0})) ==
          "IPv4: option 148 at offset 20 has bad length 8 (header ends at 24)");
    // A length below 2 would never advance.
    CHECK(parse_error(ipv4(kTcp, tcp(1, 2, kTcpSyn), {7, 1, 0, 0})).find("bad length 1") !=
          std::string::npos);
    // A type byte as the last header byte has no room for its length.
    CHECK(parse_error(ipv4(kTcp, tcp(1, 2, kTcpSyn), {1, 1, 1, 68})) ==
          "IPv4: option 68 at offset 23 has no length byte");
}

TEST_CASE("malformed transport headers are errors") {
    Bytes doff = ipv4(kTcp, tcp(1, 2, kTcpSyn));
    doff[20 + 12] = 4 << 4;
    CHECK(parse_error(doff) == "TCP: data offset 4 at offset 20 is below the minimum of 5");
    Bytes doff6 = ipv6(kTcp, tcp(1, 2, kTcpSyn));
    doff6[40 + 12] = 0;
    CHECK(parse_error(doff6) == "TCP: data offset 0 at offset 40 is below the minimum of 5");
    Bytes doff_long = ipv4(kTcp, tcp(1, 2, kTcpSyn));
    doff_long[20 + 12] = 6 << 4;
    CHECK(parse_error(doff_long) ==
          "TCP: header length 24 at offset 20 runs past the end of the packet (20 bytes left)");

    Bytes udp_short = ipv4(kUdp, udp(1, 2, text("abcd")));
    put16(udp_short, 20 + 4, 7);
    CHECK(parse_error(udp_short) == "UDP: length 7 at offset 20 is below the header size of 8");
    Bytes udp_long = ipv6(kUdp, udp(1, 2, text("abcd")));
    put16(udp_long, 40 + 4, 13);
    CHECK(parse_error(udp_long) ==
          "UDP: length 13 at offset 40 runs past the end of the packet (12 bytes left)");

    Bytes lite = ipv4(kUdpLite, udplite(1, 2, 3));
    CHECK(parse_error(lite).find("UDPLite: checksum coverage 3") == 0);
    Bytes lite_long = ipv4(kUdpLite, udplite(1, 2, 9));
    CHECK(parse_error(lite_long).find("UDPLite: checksum coverage 9") == 0);

    CHECK(parse_error(ipv4(kIcmp, {8, 0, 0, 0})) ==
          "ICMP: truncated header at offset 20 (8 bytes needed, 4 left)");
    CHECK(parse_error(ipv6(kSctp, Bytes(11))) ==
          "SCTP: truncated common header at offset 40 (12 bytes needed, 11 left)");
}

TEST_CASE("malformed IPv6 extension headers are errors") {
    // Hop-by-hop claims 16 bytes; only 8 are there.
    Bytes hbh = options_header(kUdp, {});
    hbh[1] = 1;
    CHECK(parse_error(ipv6(kHopByHop, hbh)) ==
          "IPv6: hop-by-hop options header at offset 40 has length 16 but only 8 bytes are left");
    Bytes routing = routing_header(kTcp);
    routing[1] = 200;
    CHECK(parse_error(ipv6(kRouting, cat(routing, tcp(1, 2, kTcpSyn)))) ==
          "IPv6: routing header at offset 40 has length 1608 but only 44 bytes are left");
    CHECK(parse_error(ipv6(kFragment, {kUdp, 0, 0})) ==
          "IPv6: truncated fragment header at offset 40 (8 bytes needed, 3 left)");
    CHECK(parse_error(ipv6(kDestOpts, {kUdp, 0, 1})) ==
          "IPv6: truncated destination options header at offset 40 (8 bytes needed, 3 left)");
    Bytes ah = auth_header(kTcp);
    ah[1] = 0;  // 8 bytes: below the fixed part
    CHECK(parse_error(ipv6(kAh, cat(ah, tcp(1, 2, kTcpSyn)))).find("below the minimum of 12") !=
          std::string::npos);

    // An option inside the header whose length runs past the header.
    Bytes bad_opt = {kUdp, 0, 1, 9, 0, 0, 0, 0};
    CHECK(parse_error(ipv6(kDestOpts, cat(bad_opt, udp(1, 2)))) ==
          "IPv6: option 1 at offset 42 runs past the end of the destination options header "
          "(length 11, 6 bytes left)");

    // Hop-by-hop anywhere but first.
    Bytes late_hbh = cat(options_header(kHopByHop, {}), options_header(kUdp, {}));
    CHECK(parse_error(ipv6(kDestOpts, cat(late_hbh, udp(1, 2)))) ==
          "IPv6: hop-by-hop options header at offset 48 does not follow the IPv6 header");

    // A later fragment whose first header is another extension header: the protocol is unknown.
    CHECK(parse_error(ipv6(kFragment, cat(fragment_header(kDestOpts, 8, false), Bytes(16))))
              .find("hides its transport protocol") != std::string::npos);
}

TEST_CASE("unsupported or misplaced protocols are errors naming the number") {
    CHECK(parse_error(ipv4(47, Bytes(8))) ==
          "IPv4: unsupported transport protocol 47 at offset 20");
    CHECK(parse_error(ipv6(59, {})) == "IPv6: unsupported transport protocol 59 at offset 40");
    CHECK(parse_error(ipv6(50, Bytes(16))).find("IPv6: unsupported transport protocol 50") == 0);
    CHECK(parse_error(ipv4(kIcmp6, icmp(128, 0))) ==
          "IPv4: icmp6 (protocol 58) is not valid over IPv4");
    CHECK(parse_error(ipv6(kIcmp, icmp(8, 0))) == "IPv6: icmp (protocol 1) is not valid over IPv6");
}

TEST_CASE("every packet cut at every length is an error, never a read past the end") {
    for (const Sample& s : samples()) {
        INFO(s.name);
        PacketInfo full = parse_ok(s.bytes);
        CHECK(payload_inside(full, s.bytes));
        for (size_t len = 0; len < s.bytes.size(); ++len) {
            // A fresh allocation of exactly `len` bytes, so that a sanitizer sees any over-read.
            Bytes cut(s.bytes.begin(), s.bytes.begin() + static_cast<std::ptrdiff_t>(len));
            auto r = parse_packet(cut);
            CHECK_MESSAGE(!r.ok(), "length " << len << " parsed");
        }
    }
}

TEST_CASE("cut packets whose IP length agrees with the cut give an error or a consistent result") {
    for (const Sample& s : samples()) {
        INFO(s.name);
        PacketInfo full = parse_ok(s.bytes);
        for (size_t len = 0; len <= s.bytes.size(); ++len) {
            Bytes cut(s.bytes.begin(), s.bytes.begin() + static_cast<std::ptrdiff_t>(len));
            fix_ip_length(cut);
            auto r = parse_packet(cut);
            INFO("length " << len);
            if (len < full.l4_offset + min_transport_header(full.protocol)) {
                CHECK_FALSE(r.ok());
                continue;
            }
            if (!r.ok()) continue;  // a cut inside a UDP payload contradicts the UDP length
            CHECK(r->protocol == full.protocol);
            CHECK(r->l4_offset == full.l4_offset);
            CHECK(r->src_port == full.src_port);
            CHECK(r->dst_port == full.dst_port);
            CHECK(payload_inside(*r, cut));
        }
    }
}

TEST_CASE("every seed of the packet fuzz corpus is a valid packet of the kind its name says") {
    // Seeds are named PROTOCOL-vFAMILY-what, e.g. "udp-v6-hop-by-hop".
    namespace fs = std::filesystem;
    fs::path dir = "tests/data/fuzz/packet";
    REQUIRE(fs::is_directory(dir));
    int seen = 0;
    for (const auto& e : fs::directory_iterator(dir)) {
        std::string name = e.path().filename().string();
        INFO(name);
        std::ifstream f(e.path(), std::ios::binary);
        Bytes b((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
        PacketInfo p = parse_ok(b);
        auto dash = name.find('-');
        REQUIRE(dash != std::string::npos);
        CHECK(protocol_name(p.protocol) == name.substr(0, dash));
        CHECK(name.substr(dash + 1, 2) == (p.src.is_v4() ? "v4" : "v6"));
        ++seen;
    }
    CHECK(seen >= 10);
}
