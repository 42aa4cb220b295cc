#include "nfq/flow_reaper.h"

#include <libmnl/libmnl.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "core/attribution/diag_message.h"

namespace tsnitch::nfq {

void FlowReaper::SocketCloser::operator()(mnl_socket* s) const {
    if (s) mnl_socket_close(s);
}

Result<FlowReaper> FlowReaper::open(Engine& engine) {
    auto ct = ConntrackClient::open();
    if (!ct) return ct.error();
    mnl_socket* s = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (!s) return make_error(std::string("sock_diag socket: ") + std::strerror(errno), errno);
    FlowReaper r(engine, s, std::move(*ct));
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
        return make_error(std::string("sock_diag bind: ") + std::strerror(errno), errno);
    // A burst of closes (a resolver's sockets, a scan) must not overflow the socket: room for
    // some ten thousand notifications. SO_RCVBUFFORCE needs CAP_NET_ADMIN, which run has.
    const int room = 4 << 20;
    (void)setsockopt(mnl_socket_get_fd(s), SOL_SOCKET, SO_RCVBUFFORCE, &room, sizeof room);
    for (int group : {SKNLGRP_INET_UDP_DESTROY, SKNLGRP_INET6_UDP_DESTROY}) {
        if (mnl_socket_setsockopt(s, NETLINK_ADD_MEMBERSHIP, &group, sizeof group) < 0)
            return make_error(
                std::string("joining the sock_diag destroy notifications: ") + std::strerror(errno),
                errno);
    }
    return r;
}

int FlowReaper::fd() const {
    return mnl_socket_get_fd(sock_.get());
}

std::vector<std::string> FlowReaper::on_readable() {
    std::vector<std::string> errors;
    std::vector<uint8_t> buf(MNL_SOCKET_BUFFER_SIZE);
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(sock_.get(), buf.data(), buf.size());
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
        if (n < 0 && errno == ENOBUFS) {
            if (!overflow_said_)
                errors.push_back(
                    "socket destroy notifications were lost (said once): the conntrack entries "
                    "of some closed UDP sockets stay until they time out");
            overflow_said_ = true;
            continue;
        }
        if (n < 0) {
            errors.push_back(std::string("reading socket destroy notifications: ") +
                             std::strerror(errno));
            break;
        }
        std::vector<InetSocket> gone;
        auto parsed = parse_inet_diag_answer(
            std::span<const uint8_t>(buf.data(), static_cast<size_t>(n)), 0, Protocol::udp, gone);
        if (!parsed) errors.push_back("socket destroy notification: " + parsed.error().message);
        for (const InetSocket& s : gone)
            reap(s, errors);
    }
    return errors;
}

void FlowReaper::reap(const InetSocket& s, std::vector<std::string>& errors) {
    const std::vector<FlowKey> allowed =
        engine_.forget_socket(s.protocol, s.src, s.src_port, s.dst, s.dst_port);
    for (const ConntrackTuple& t : flows_to_reap(s, allowed)) {
        // No entry (it timed out, or the flow never got one) is a normal answer.
        auto erased = ct_.erase(t);
        if (!erased)
            errors.push_back("deleting the conntrack entry of " + endpoint_text(t.src, t.src_port) +
                             " -> " + endpoint_text(t.dst, t.dst_port) + ": " +
                             erased.error().message);
    }
}

std::vector<ConntrackTuple> flows_to_reap(const InetSocket& s, std::span<const FlowKey> allowed) {
    std::vector<ConntrackTuple> out;
    const auto add = [&out](ConntrackTuple t) {
        t.src = t.src.unmapped();
        t.dst = t.dst.unmapped();
        const bool known = std::any_of(out.begin(), out.end(), [&t](const ConntrackTuple& o) {
            return o.protocol == t.protocol && o.src == t.src && o.src_port == t.src_port &&
                   o.dst == t.dst && o.dst_port == t.dst_port;
        });
        if (!known) out.push_back(t);
    };
    // A connected socket's own flow, whether or not the engine still remembers it: its entry may
    // outlive the engine's cache (it lives as long as packets flow, unqueued).
    if (s.has_peer() && !s.src.unmapped().is_unspecified())
        add({s.protocol, s.src, s.src_port, s.dst, s.dst_port});
    for (const FlowKey& k : allowed)
        add({k.protocol, k.src, k.src_port, k.dst, k.dst_port});
    return out;
}

}  // namespace tsnitch::nfq
