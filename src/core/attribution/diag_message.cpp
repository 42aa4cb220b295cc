#include "core/attribution/diag_message.h"

#include <libmnl/libmnl.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <cstddef>
#include <cstring>
#include <string>

namespace tsnitch {

namespace {

// TCP states (include/net/tcp_states.h) in which the peer's FIN has arrived.
bool fin_received(uint8_t state) {
    constexpr uint8_t kCloseWait = 8, kLastAck = 9, kClosing = 11, kTimeWait = 6;
    return state == kCloseWait || state == kLastAck || state == kClosing || state == kTimeWait;
}

uint8_t ip_protocol(Protocol p) {
    switch (p) {
        case Protocol::udp:
            return IPPROTO_UDP;
        case Protocol::udplite:
            return IPPROTO_UDPLITE;
        default:
            return IPPROTO_TCP;
    }
}

// Writes `a` into a sockid address field of family `f`, mapping or unmapping IPv4 as needed.
void put_address(__be32 (&field)[4], const IpAddress& a, Family f) {
    IpAddress v = f == Family::v6 ? a.mapped_v6() : a.unmapped();
    std::memset(field, 0, sizeof field);
    if (v.family() != f) return;  // a real IPv6 address in an IPv4 request: leave it unspecified
    auto b = v.bytes();
    std::memcpy(field, b.data(), b.size());
}

IpAddress get_address(const __be32 (&field)[4], Family f, uint32_t ifindex) {
    uint8_t b[16];
    std::memcpy(b, field, sizeof b);
    if (f == Family::v4) return IpAddress::v4_bytes(std::span<const uint8_t, 4>(b, 4));
    return IpAddress::v6_bytes(std::span<const uint8_t, 16>(b, 16), ifindex);
}

std::vector<uint8_t> put_request(uint32_t seq, uint16_t flags, const void* req, size_t size) {
    std::vector<uint8_t> buf(MNL_ALIGN(sizeof(nlmsghdr)) + MNL_ALIGN(size));
    nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data());
    nlh->nlmsg_type = SOCK_DIAG_BY_FAMILY;
    nlh->nlmsg_flags = flags;
    nlh->nlmsg_seq = seq;
    void* extra = mnl_nlmsg_put_extra_header(nlh, size);
    std::memcpy(extra, req, size);
    buf.resize(nlh->nlmsg_len);
    return buf;
}

Error truncated(const char* what, size_t have, size_t need) {
    return make_error("sock_diag: truncated " + std::string(what) + " (" + std::to_string(have) +
                          " of " + std::to_string(need) + " bytes)",
                      EBADMSG);
}

// Walks the attributes after the fixed header of `nlh`; an attribute that overruns the message is
// an error (libmnl's iteration alone would just stop there).
template <class F>
Status for_each_attribute(const nlmsghdr* nlh, size_t header_size, F&& f) {
    const char* tail = static_cast<const char*>(mnl_nlmsg_get_payload_tail(nlh));
    const nlattr* attr = static_cast<const nlattr*>(mnl_nlmsg_get_payload_offset(nlh, header_size));
    while (mnl_attr_ok(attr, static_cast<int>(tail - reinterpret_cast<const char*>(attr)))) {
        f(attr);
        attr = mnl_attr_next(attr);
    }
    if (tail - reinterpret_cast<const char*>(attr) > 0)
        return make_error("sock_diag: attribute overruns its message", EBADMSG);
    return Ok{};
}

Result<InetSocket> parse_inet_message(const nlmsghdr* nlh, Protocol protocol) {
    const size_t len = mnl_nlmsg_get_payload_len(nlh);
    inet_diag_msg m;
    if (len < sizeof m) return truncated("inet_diag_msg", len, sizeof m);
    std::memcpy(&m, mnl_nlmsg_get_payload(nlh), sizeof m);
    InetSocket s;
    if (m.idiag_family == AF_INET) {
        s.family = Family::v4;
    } else if (m.idiag_family == AF_INET6) {
        s.family = Family::v6;
    } else {
        return make_error("sock_diag: unknown address family " + std::to_string(m.idiag_family),
                          EBADMSG);
    }
    s.protocol = protocol;
    s.state = m.idiag_state;
    s.ifindex = m.id.idiag_if;
    s.src = get_address(m.id.idiag_src, s.family, s.ifindex);
    s.dst = get_address(m.id.idiag_dst, s.family, s.ifindex);
    s.src_port = ntohs(m.id.idiag_sport);
    s.dst_port = ntohs(m.id.idiag_dport);
    s.uid = m.idiag_uid;
    s.inode = m.idiag_inode;
    s.cookie = uint64_t{m.id.idiag_cookie[0]} | (uint64_t{m.id.idiag_cookie[1]} << 32);
    s.rqueue = m.idiag_rqueue;
    s.wqueue = m.idiag_wqueue;
    Status st = for_each_attribute(nlh, sizeof m, [&](const nlattr* a) {
        const auto type = mnl_attr_get_type(a);
        if (type == INET_DIAG_INFO) {
            // An older kernel's tcp_info may end before the byte counters: then they stay 0.
            const size_t have = mnl_attr_get_payload_len(a);
            const auto* p = static_cast<const uint8_t*>(mnl_attr_get_payload(a));
            // tcpi_bytes_acked would count the SYN (and the FIN) as a byte each; bytes_sent is
            // the payload alone. bytes_received counts the peer's FIN as one byte: taken off in
            // the states that come after the FIN arrived.
            constexpr size_t sent = offsetof(tcp_info, tcpi_bytes_sent);
            constexpr size_t received = offsetof(tcp_info, tcpi_bytes_received);
            if (have >= sent + 8) std::memcpy(&s.bytes_sent, p + sent, 8);
            if (have >= received + 8) std::memcpy(&s.bytes_received, p + received, 8);
            if (s.bytes_received > 0 && fin_received(m.idiag_state)) --s.bytes_received;
            return;
        }
        if (mnl_attr_get_payload_len(a) < 1) return;
        const uint8_t v = mnl_attr_get_u8(a);
        if (type == INET_DIAG_SKV6ONLY) {
            s.v6only = v != 0;
        } else if (type == INET_DIAG_PROTOCOL) {
            if (auto p = protocol_from_number(v)) s.protocol = *p;
        }
    });
    if (!st) return st.error();
    return s;
}

Result<UnixSocket> parse_unix_message(const nlmsghdr* nlh) {
    const size_t len = mnl_nlmsg_get_payload_len(nlh);
    unix_diag_msg m;
    if (len < sizeof m) return truncated("unix_diag_msg", len, sizeof m);
    std::memcpy(&m, mnl_nlmsg_get_payload(nlh), sizeof m);
    if (m.udiag_family != AF_UNIX)
        return make_error("sock_diag: unix answer of family " + std::to_string(m.udiag_family),
                          EBADMSG);
    UnixSocket s;
    s.type = m.udiag_type;
    s.state = m.udiag_state;
    s.inode = m.udiag_ino;
    s.cookie = uint64_t{m.udiag_cookie[0]} | (uint64_t{m.udiag_cookie[1]} << 32);
    Status st = for_each_attribute(nlh, sizeof m, [&](const nlattr* a) {
        const auto type = mnl_attr_get_type(a);
        const size_t n = mnl_attr_get_payload_len(a);
        const char* p = static_cast<const char*>(mnl_attr_get_payload(a));
        if (type == UNIX_DIAG_NAME && n > 0) {
            if (p[0] == '\0') {
                s.path = "@" + std::string(p + 1, n - 1);  // abstract: the leading NUL as '@'
            } else {
                s.path.assign(p, strnlen(p, n));  // a path, with its terminating NUL
            }
        } else if (type == UNIX_DIAG_PEER && n >= sizeof(uint32_t)) {
            s.peer_inode = mnl_attr_get_u32(a);
        }
    });
    if (!st) return st.error();
    return s;
}

// libmnl's mnl_nlmsg_ok compares the length as a signed int: a header claiming 4 GB passes it.
bool message_ok(const nlmsghdr* nlh, int len) {
    return len >= static_cast<int>(sizeof(nlmsghdr)) && nlh->nlmsg_len >= sizeof(nlmsghdr) &&
           nlh->nlmsg_len <= static_cast<unsigned>(len);
}

// Runs `on_message` on each SOCK_DIAG_BY_FAMILY message of a datagram and handles the netlink
// control messages around them.
template <class F>
Result<DiagProgress> walk_answer(std::span<const uint8_t> datagram, uint32_t seq, F&& on_message) {
    if (datagram.empty()) return make_error("sock_diag: empty datagram", EBADMSG);
    // libmnl reads the headers in place: give it a 4-byte aligned copy when the input is not.
    std::vector<uint32_t> aligned;
    const void* base = datagram.data();
    if (reinterpret_cast<uintptr_t>(base) % alignof(nlmsghdr) != 0) {
        aligned.resize((datagram.size() + 3) / 4);
        std::memcpy(aligned.data(), datagram.data(), datagram.size());
        base = aligned.data();
    }
    int len = static_cast<int>(datagram.size());
    const nlmsghdr* nlh = static_cast<const nlmsghdr*>(base);
    while (message_ok(nlh, len)) {
        if (seq != 0 && nlh->nlmsg_seq != 0 && nlh->nlmsg_seq != seq)
            return make_error("sock_diag: answer to request " + std::to_string(nlh->nlmsg_seq) +
                                  " while waiting for " + std::to_string(seq),
                              EPROTO);
        if (nlh->nlmsg_type == NLMSG_DONE) return DiagProgress::done;
        if (nlh->nlmsg_type == NLMSG_ERROR) {
            const size_t n = mnl_nlmsg_get_payload_len(nlh);
            if (n < sizeof(nlmsgerr)) return truncated("netlink error", n, sizeof(nlmsgerr));
            nlmsgerr e;
            std::memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof e);
            // No such socket is an answer too: the exact query found nothing.
            if (e.error == 0 || e.error == -ENOENT) return DiagProgress::done;
            // The kernel sends -errno; anything else is a broken message (and -INT_MIN overflows).
            if (e.error >= 0 || e.error < -4095)
                return make_error("sock_diag: bad error code " + std::to_string(e.error), EBADMSG);
            return make_error(std::string("sock_diag: ") + std::strerror(-e.error), -e.error);
        }
        if (nlh->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
            Status st = on_message(nlh);
            if (!st) return st.error();
            // The answer to an exact query is one message, not a multipart dump.
            if (!(nlh->nlmsg_flags & NLM_F_MULTI)) return DiagProgress::done;
        }
        nlh = mnl_nlmsg_next(nlh, &len);
    }
    if (len > 0) return truncated("netlink message", static_cast<size_t>(len), sizeof(nlmsghdr));
    return DiagProgress::more;
}

}  // namespace

std::vector<uint8_t> build_inet_diag_request(const InetDiagRequest& r, uint32_t seq) {
    inet_diag_req_v2 req{};
    req.sdiag_family = r.family == Family::v6 ? AF_INET6 : AF_INET;
    req.sdiag_protocol = ip_protocol(r.protocol);
    req.idiag_states = r.states;
    if (r.tcp_info) req.idiag_ext = static_cast<uint8_t>(1u << (INET_DIAG_INFO - 1));
    IpAddress local = r.src, remote = r.dst;
    uint16_t local_port = r.src_port, remote_port = r.dst_port;
    // udp_dump_one looks the socket up as for an arriving datagram: the kernel takes the remote
    // end from the id's source fields and the local end from its destination fields.
    if (!r.dump && r.protocol != Protocol::tcp) {
        std::swap(local, remote);
        std::swap(local_port, remote_port);
    }
    put_address(req.id.idiag_src, local, r.family);
    put_address(req.id.idiag_dst, remote, r.family);
    req.id.idiag_sport = htons(local_port);
    req.id.idiag_dport = htons(remote_port);
    req.id.idiag_if = r.ifindex;
    req.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
    req.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
    const uint16_t flags = NLM_F_REQUEST | (r.dump ? NLM_F_DUMP : 0);
    return put_request(seq, flags, &req, sizeof req);
}

std::vector<uint8_t> build_destroy_request(const InetSocket& s, uint32_t seq) {
    InetDiagRequest r;
    r.protocol = s.protocol;
    r.family = s.family;
    r.dump = false;
    r.src = s.src;
    r.src_port = s.src_port;
    r.dst = s.dst;
    r.dst_port = s.dst_port;
    r.ifindex = s.ifindex;
    std::vector<uint8_t> buf = build_inet_diag_request(r, seq);
    auto* nlh = reinterpret_cast<nlmsghdr*>(buf.data());
    nlh->nlmsg_type = SOCK_DESTROY;
    nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
    auto* req = static_cast<inet_diag_req_v2*>(mnl_nlmsg_get_payload(nlh));
    req->id.idiag_cookie[0] = static_cast<uint32_t>(s.cookie);
    req->id.idiag_cookie[1] = static_cast<uint32_t>(s.cookie >> 32);
    return buf;
}

std::vector<uint8_t> build_unix_diag_request(uint32_t seq) {
    unix_diag_req req{};
    req.sdiag_family = AF_UNIX;
    req.udiag_states = 0xffffffffu;
    req.udiag_show = UDIAG_SHOW_NAME | UDIAG_SHOW_PEER;
    req.udiag_cookie[0] = INET_DIAG_NOCOOKIE;
    req.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
    return put_request(seq, NLM_F_REQUEST | NLM_F_DUMP, &req, sizeof req);
}

Result<DiagProgress> parse_inet_diag_answer(std::span<const uint8_t> datagram, uint32_t seq,
                                            Protocol protocol, std::vector<InetSocket>& out) {
    return walk_answer(datagram, seq, [&](const nlmsghdr* nlh) -> Status {
        auto s = parse_inet_message(nlh, protocol);
        if (!s) return s.error();
        out.push_back(std::move(*s));
        return Ok{};
    });
}

Result<DiagProgress> parse_unix_diag_answer(std::span<const uint8_t> datagram, uint32_t seq,
                                            std::vector<UnixSocket>& out) {
    return walk_answer(datagram, seq, [&](const nlmsghdr* nlh) -> Status {
        auto s = parse_unix_message(nlh);
        if (!s) return s.error();
        out.push_back(std::move(*s));
        return Ok{};
    });
}

std::string_view socket_state_name(uint8_t state) {
    static constexpr std::string_view names[] = {
        "unknown",   "established", "syn_sent",     "syn_recv",      "fin_wait1",
        "fin_wait2", "time_wait",   "close",        "close_wait",    "last_ack",
        "listen",    "closing",     "new_syn_recv", "bound_inactive"};
    return state < std::size(names) ? names[state] : "unknown";
}

}  // namespace tsnitch
