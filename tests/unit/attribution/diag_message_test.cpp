// sock_diag requests and answers, on synthetic netlink bytes.
#include <arpa/inet.h>
#include <doctest/doctest.h>
#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstring>
#include <vector>

#include "core/attribution/diag_message.h"

using namespace tsnitch;

namespace {

IpAddress ip(const char* s) {
    return *IpAddress::parse(s);
}

// A datagram under construction: netlink messages appended one after another.
struct Datagram {
    std::vector<uint8_t> bytes;

    nlmsghdr* add(uint16_t type, uint16_t flags, uint32_t seq, size_t room = 512) {
        const size_t at = bytes.size();
        bytes.resize(at + room);
        nlmsghdr* nlh = mnl_nlmsg_put_header(bytes.data() + at);
        nlh->nlmsg_type = type;
        nlh->nlmsg_flags = flags;
        nlh->nlmsg_seq = seq;
        return nlh;
    }
    // Call after filling the last message: trims the unused room.
    void close(nlmsghdr* nlh) {
        const size_t at = reinterpret_cast<uint8_t*>(nlh) - bytes.data();
        bytes.resize(at + MNL_ALIGN(nlh->nlmsg_len));
    }
    std::span<const uint8_t> span() const { return bytes; }
};

struct Sock {
    int family = AF_INET;
    uint8_t state = 1;
    const char* src = "10.0.2.2";
    uint16_t sport = 54321;
    const char* dst = "140.82.121.4";
    uint16_t dport = 443;
    uint32_t inode = 12345678;
    uint32_t uid = 1000;
    int v6only = -1;  // -1: no attribute
    // With an INET_DIAG_INFO attribute when any is set. `acked` counts the SYN (and a FIN) as
    // the kernel does; `sent` is the payload alone.
    uint64_t acked = 0, sent = 0, received = 0;
};

void add_inet(Datagram& d, const Sock& s, uint32_t seq = 7, uint16_t flags = NLM_F_MULTI) {
    nlmsghdr* nlh = d.add(SOCK_DIAG_BY_FAMILY, flags, seq);
    auto* m = static_cast<inet_diag_msg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(inet_diag_msg)));
    m->idiag_family = static_cast<uint8_t>(s.family);
    m->idiag_state = s.state;
    inet_pton(s.family, s.src, m->id.idiag_src);
    inet_pton(s.family, s.dst, m->id.idiag_dst);
    m->id.idiag_sport = htons(s.sport);
    m->id.idiag_dport = htons(s.dport);
    m->id.idiag_cookie[0] = 0x11;
    m->id.idiag_cookie[1] = 0x2;
    m->idiag_uid = s.uid;
    m->idiag_inode = s.inode;
    m->idiag_rqueue = 3;
    m->idiag_wqueue = 4;
    if (s.v6only >= 0) mnl_attr_put_u8(nlh, INET_DIAG_SKV6ONLY, static_cast<uint8_t>(s.v6only));
    if (s.acked || s.sent || s.received) {
        tcp_info info{};
        info.tcpi_bytes_acked = s.acked;
        info.tcpi_bytes_sent = s.sent;
        info.tcpi_bytes_received = s.received;
        mnl_attr_put(nlh, INET_DIAG_INFO, sizeof info, &info);
    }
    d.close(nlh);
}

void add_done(Datagram& d, uint32_t seq = 7) {
    nlmsghdr* nlh = d.add(NLMSG_DONE, NLM_F_MULTI, seq);
    int zero = 0;
    std::memcpy(mnl_nlmsg_put_extra_header(nlh, sizeof zero), &zero, sizeof zero);
    d.close(nlh);
}

void add_error(Datagram& d, int err, uint32_t seq = 7) {
    nlmsghdr* nlh = d.add(NLMSG_ERROR, 0, seq);
    auto* e = static_cast<nlmsgerr*>(mnl_nlmsg_put_extra_header(nlh, sizeof(nlmsgerr)));
    e->error = -err;
    d.close(nlh);
}

template <class T>
T request_body(const std::vector<uint8_t>& msg) {
    REQUIRE(msg.size() >= sizeof(nlmsghdr) + sizeof(T));
    T body;
    std::memcpy(&body, msg.data() + MNL_ALIGN(sizeof(nlmsghdr)), sizeof body);
    return body;
}

}  // namespace

TEST_CASE("a dump request names the family, protocol, states and source port") {
    InetDiagRequest r;
    r.protocol = Protocol::udp;
    r.family = Family::v6;
    r.src = IpAddress::any(Family::v6);
    r.dst = IpAddress::any(Family::v6);
    r.src_port = 8612;
    const auto msg = build_inet_diag_request(r, 42);
    nlmsghdr h;
    std::memcpy(&h, msg.data(), sizeof h);
    CHECK(h.nlmsg_len == msg.size());
    CHECK(h.nlmsg_type == SOCK_DIAG_BY_FAMILY);
    CHECK(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_DUMP));
    CHECK(h.nlmsg_seq == 42u);
    const auto req = request_body<inet_diag_req_v2>(msg);
    CHECK(req.sdiag_family == AF_INET6);
    CHECK(req.sdiag_protocol == IPPROTO_UDP);
    CHECK(req.idiag_states == 0xffffffffu);
    CHECK(ntohs(req.id.idiag_sport) == 8612);
    CHECK(req.id.idiag_dport == 0);
    CHECK(req.id.idiag_cookie[0] == INET_DIAG_NOCOOKIE);
}

TEST_CASE("an exact TCP query carries the local end as source, UDP's as destination") {
    InetDiagRequest r;
    r.dump = false;
    r.protocol = Protocol::tcp;
    r.src = ip("10.0.2.2");
    r.src_port = 54321;
    r.dst = ip("140.82.121.4");
    r.dst_port = 443;
    auto tcp = request_body<inet_diag_req_v2>(build_inet_diag_request(r, 1));
    uint8_t b[4];
    std::memcpy(b, tcp.id.idiag_src, 4);
    CHECK(IpAddress::v4_bytes(std::span<const uint8_t, 4>(b, 4)) == r.src);
    CHECK(ntohs(tcp.id.idiag_sport) == 54321);
    CHECK(ntohs(tcp.id.idiag_dport) == 443);

    r.protocol = Protocol::udp;
    auto udp = request_body<inet_diag_req_v2>(build_inet_diag_request(r, 1));
    std::memcpy(b, udp.id.idiag_dst, 4);
    CHECK(IpAddress::v4_bytes(std::span<const uint8_t, 4>(b, 4)) == r.src);
    CHECK(ntohs(udp.id.idiag_dport) == 54321);
    CHECK(ntohs(udp.id.idiag_sport) == 443);
    nlmsghdr h;
    std::memcpy(&h, build_inet_diag_request(r, 1).data(), sizeof h);
    CHECK(h.nlmsg_flags == NLM_F_REQUEST);
}

TEST_CASE("an IPv4 address in an AF_INET6 request is written ::ffff:-mapped") {
    InetDiagRequest r;
    r.dump = false;
    r.family = Family::v6;
    r.src = ip("192.168.1.5");
    r.dst = ip("10.0.0.1");
    auto req = request_body<inet_diag_req_v2>(build_inet_diag_request(r, 1));
    uint8_t b[16];
    std::memcpy(b, req.id.idiag_src, 16);
    CHECK(IpAddress::v6_bytes(std::span<const uint8_t, 16>(b, 16)).to_string() ==
          "::ffff:192.168.1.5");
}

TEST_CASE("a dump answer of IPv4 and IPv6 sockets parses into sockets of their own family") {
    Datagram d;
    add_inet(d, Sock{});
    add_inet(d, Sock{.family = AF_INET6,
                     .state = 7,
                     .src = "fe80::9fc2:ddcf:df22:aa50",
                     .sport = 50416,
                     .dst = "::",
                     .dport = 0,
                     .inode = 99,
                     .v6only = 1});
    std::vector<InetSocket> out;
    auto r = parse_inet_diag_answer(d.span(), 7, Protocol::tcp, out);
    REQUIRE(r.ok());
    CHECK(*r == DiagProgress::more);
    REQUIRE(out.size() == 2);
    CHECK(out[0].family == Family::v4);
    CHECK(out[0].src.to_string() == "10.0.2.2");
    CHECK(out[0].dst.to_string() == "140.82.121.4");
    CHECK(out[0].src_port == 54321);
    CHECK(out[0].dst_port == 443);
    CHECK(out[0].inode == 12345678u);
    CHECK(out[0].uid == 1000u);
    CHECK(out[0].cookie == 0x200000011ull);
    CHECK(out[0].rqueue == 3u);
    CHECK(out[0].wqueue == 4u);
    CHECK(socket_state_name(out[0].state) == "established");
    CHECK(out[1].family == Family::v6);
    // Never printed as the IPv4 "254.128.0.0" of the first four bytes.
    CHECK(out[1].src.to_string() == "fe80::9fc2:ddcf:df22:aa50");
    CHECK(out[1].v6only);
    CHECK(socket_state_name(out[1].state) == "close");

    Datagram end;
    add_done(end);
    CHECK(*parse_inet_diag_answer(end.span(), 7, Protocol::tcp, out) == DiagProgress::done);
    CHECK(out.size() == 2);
}

TEST_CASE("an exact query's single answer, and its 'no such socket' error, both end the answer") {
    Datagram one;
    add_inet(one, Sock{}, 7, 0);
    std::vector<InetSocket> out;
    CHECK(*parse_inet_diag_answer(one.span(), 7, Protocol::tcp, out) == DiagProgress::done);
    CHECK(out.size() == 1);

    Datagram none;
    add_error(none, ENOENT);
    out.clear();
    auto r = parse_inet_diag_answer(none.span(), 7, Protocol::udp, out);
    REQUIRE(r.ok());
    CHECK(*r == DiagProgress::done);
    CHECK(out.empty());
}

TEST_CASE("other netlink errors are errors that say what the kernel said") {
    Datagram d;
    add_error(d, EPERM);
    std::vector<InetSocket> out;
    auto r = parse_inet_diag_answer(d.span(), 7, Protocol::tcp, out);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().code == EPERM);
    CHECK(r.error().message.find("not permitted") != std::string::npos);
}

TEST_CASE("an answer to another request is refused") {
    Datagram d;
    add_inet(d, Sock{}, 8);
    std::vector<InetSocket> out;
    CHECK_FALSE(parse_inet_diag_answer(d.span(), 7, Protocol::tcp, out).ok());
}

TEST_CASE("truncated messages are errors, not reads past the end") {
    Datagram d;
    add_inet(d, Sock{});
    std::vector<InetSocket> out;
    SUBCASE("a datagram cut in the middle of a message") {
        auto cut = d.span().first(d.bytes.size() - 10);
        CHECK_FALSE(parse_inet_diag_answer(cut, 7, Protocol::tcp, out).ok());
    }
    SUBCASE("a message too short for inet_diag_msg") {
        auto* h = reinterpret_cast<nlmsghdr*>(d.bytes.data());
        h->nlmsg_len = sizeof(nlmsghdr) + 8;
        d.bytes.resize(MNL_ALIGN(h->nlmsg_len));
        auto r = parse_inet_diag_answer(d.span(), 7, Protocol::tcp, out);
        REQUIRE_FALSE(r.ok());
        CHECK(r.error().message.find("truncated inet_diag_msg") != std::string::npos);
    }
    SUBCASE("a header that claims more than the datagram holds") {
        reinterpret_cast<nlmsghdr*>(d.bytes.data())->nlmsg_len += 64;
        CHECK_FALSE(parse_inet_diag_answer(d.span(), 7, Protocol::tcp, out).ok());
    }
    SUBCASE("a header length beyond 2 GB (negative as an int)") {
        reinterpret_cast<nlmsghdr*>(d.bytes.data())->nlmsg_len = 0xfffffff0u;
        CHECK_FALSE(parse_inet_diag_answer(d.span(), 7, Protocol::tcp, out).ok());
    }
    SUBCASE("a few stray bytes") {
        std::vector<uint8_t> stray{1, 2, 3};
        CHECK_FALSE(parse_inet_diag_answer(stray, 7, Protocol::tcp, out).ok());
    }
    CHECK(out.empty());
}

TEST_CASE("an attribute whose length overruns its message is an error") {
    Datagram d;
    add_inet(d, Sock{.family = AF_INET6, .src = "::1", .dst = "::1", .v6only = 0});
    auto* h = reinterpret_cast<nlmsghdr*>(d.bytes.data());
    auto* attr = reinterpret_cast<nlattr*>(d.bytes.data() + MNL_ALIGN(sizeof(nlmsghdr)) +
                                           MNL_ALIGN(sizeof(inet_diag_msg)));
    REQUIRE(attr->nla_type == INET_DIAG_SKV6ONLY);
    attr->nla_len = 200;  // the message ends long before
    std::vector<InetSocket> out;
    auto r = parse_inet_diag_answer(d.span(), 7, Protocol::tcp, out);
    REQUIRE_FALSE(r.ok());
    CHECK(r.error().message.find("attribute") != std::string::npos);
    CHECK(h->nlmsg_len < 200u);
}

TEST_CASE("an input that is not 4-byte aligned parses the same") {
    Datagram d;
    add_inet(d, Sock{});
    std::vector<uint8_t> shifted(d.bytes.size() + 1);
    std::memcpy(shifted.data() + 1, d.bytes.data(), d.bytes.size());
    std::vector<InetSocket> out;
    REQUIRE(
        parse_inet_diag_answer(std::span<const uint8_t>(shifted).subspan(1), 7, Protocol::tcp, out)
            .ok());
    REQUIRE(out.size() == 1);
    CHECK(out[0].inode == 12345678u);
}

namespace {
void add_unix(Datagram& d, uint32_t inode, const void* name, size_t name_len, uint32_t peer) {
    nlmsghdr* nlh = d.add(SOCK_DIAG_BY_FAMILY, NLM_F_MULTI, 7);
    auto* m = static_cast<unix_diag_msg*>(mnl_nlmsg_put_extra_header(nlh, sizeof(unix_diag_msg)));
    m->udiag_family = AF_UNIX;
    m->udiag_type = SOCK_STREAM;
    m->udiag_state = 10;
    m->udiag_ino = inode;
    if (name) mnl_attr_put(nlh, UNIX_DIAG_NAME, name_len, name);
    if (peer) mnl_attr_put_u32(nlh, UNIX_DIAG_PEER, peer);
    d.close(nlh);
}
}  // namespace

TEST_CASE("unix sockets: path, abstract name and unnamed") {
    Datagram d;
    add_unix(d, 1, "/run/dbus/system_bus_socket", sizeof "/run/dbus/system_bus_socket", 0);
    add_unix(d, 2, "\0tsnitch", 8, 0);
    add_unix(d, 3, nullptr, 0, 1);
    add_done(d);
    std::vector<UnixSocket> out;
    auto r = parse_unix_diag_answer(d.span(), 7, out);
    REQUIRE(r.ok());
    CHECK(*r == DiagProgress::done);
    REQUIRE(out.size() == 3);
    CHECK(out[0].path == "/run/dbus/system_bus_socket");
    CHECK(out[1].path == "@tsnitch");
    CHECK(out[2].path.empty());
    CHECK(out[2].peer_inode == 1u);
    CHECK(out[0].inode == 1u);
    CHECK(socket_state_name(out[0].state) == "listen");
}

TEST_CASE("a unix name attribute longer than its message is an error") {
    Datagram d;
    add_unix(d, 1, "/tmp/x", 7, 0);
    auto* attr = reinterpret_cast<nlattr*>(d.bytes.data() + MNL_ALIGN(sizeof(nlmsghdr)) +
                                           MNL_ALIGN(sizeof(unix_diag_msg)));
    attr->nla_len = 4000;
    std::vector<UnixSocket> out;
    CHECK_FALSE(parse_unix_diag_answer(d.span(), 7, out).ok());
}

TEST_CASE("TCP byte counters come from tcp_info when the dump asks for it: payload only") {
    InetDiagRequest r;
    CHECK(request_body<inet_diag_req_v2>(build_inet_diag_request(r, 1)).idiag_ext == 0);
    r.tcp_info = true;
    CHECK(request_body<inet_diag_req_v2>(build_inet_diag_request(r, 1)).idiag_ext ==
          1 << (INET_DIAG_INFO - 1));

    Datagram d;
    // The SYN is acknowledged like a byte (bytes_acked 5001): sent is tcpi_bytes_sent.
    add_inet(d, Sock{.acked = 5001, .sent = 5000, .received = 123456789012ull});
    add_inet(d, Sock{.inode = 2});
    // The peer's FIN counts as one received byte: taken off once the FIN came (close_wait).
    add_inet(d, Sock{.state = 8, .inode = 3, .acked = 11, .sent = 10, .received = 21});
    add_inet(d, Sock{.state = 8, .inode = 4, .acked = 1, .received = 1});
    std::vector<InetSocket> out;
    REQUIRE(parse_inet_diag_answer(d.span(), 7, Protocol::tcp, out).ok());
    REQUIRE(out.size() == 4);
    CHECK(out[0].bytes_sent == 5000u);
    CHECK(out[0].bytes_received == 123456789012ull);
    CHECK(out[1].bytes_sent == 0u);
    CHECK(out[2].bytes_sent == 10u);
    CHECK(out[2].bytes_received == 20u);
    CHECK(out[3].bytes_sent == 0u);
    CHECK(out[3].bytes_received == 0u);
}

TEST_CASE("closing a socket: SOCK_DESTROY naming it by addresses and cookie, acknowledged") {
    InetSocket s;
    s.src = ip("10.0.2.2");
    s.src_port = 54321;
    s.dst = ip("140.82.121.4");
    s.dst_port = 443;
    s.cookie = 0x200000011ull;
    const auto msg = build_destroy_request(s, 9);
    nlmsghdr h;
    std::memcpy(&h, msg.data(), sizeof h);
    CHECK(h.nlmsg_type == SOCK_DESTROY);
    CHECK(h.nlmsg_flags == (NLM_F_REQUEST | NLM_F_ACK));
    const auto req = request_body<inet_diag_req_v2>(msg);
    CHECK(req.sdiag_protocol == IPPROTO_TCP);
    CHECK(ntohs(req.id.idiag_sport) == 54321);
    CHECK(ntohs(req.id.idiag_dport) == 443);
    CHECK(req.id.idiag_cookie[0] == 0x11u);
    CHECK(req.id.idiag_cookie[1] == 0x2u);
}
