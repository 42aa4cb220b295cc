#include "core/attribution/diag_client.h"

#include <libmnl/libmnl.h>
#include <linux/sock_diag.h>
#include <sched.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "core/attribution/proc_io.h"

namespace tsnitch {

namespace {
// Big enough that a dump of thousands of sockets takes few recv() calls.
constexpr size_t kReceiveBuffer = 32768;

Error system_error(const std::string& what) {
    const int e = errno;
    return make_error(what + ": " + std::strerror(e), e);
}
}  // namespace

void DiagClient::SocketCloser::operator()(mnl_socket* s) const {
    mnl_socket_close(s);
}

DiagClient::DiagClient(mnl_socket* s) : sock_(s), buf_(kReceiveBuffer) {}

Result<DiagClient> DiagClient::open() {
    mnl_socket* s = mnl_socket_open2(NETLINK_SOCK_DIAG, SOCK_CLOEXEC);
    if (!s) return system_error("opening NETLINK_SOCK_DIAG socket");
    DiagClient client(s);
    if (mnl_socket_bind(s, 0, MNL_SOCKET_AUTOPID) < 0)
        return system_error("binding NETLINK_SOCK_DIAG socket");
    return client;
}

Result<DiagClient> DiagClient::open_in(const std::string& netns_path) {
    auto own = open_read_only("/proc/thread-self/ns/net");
    if (!own) return own.error();
    auto target = open_read_only(netns_path);
    if (!target) return target.error();
    if (setns(target->get(), CLONE_NEWNET) != 0) return system_error("entering " + netns_path);
    auto client = open();
    // Back home before anything else runs on this thread; a thread that can't return must not
    // go on working in a foreign namespace.
    if (setns(own->get(), CLONE_NEWNET) != 0) std::abort();
    return client;
}

template <class Parse>
Status DiagClient::exchange(const std::vector<uint8_t>& request, Parse&& parse) {
    if (mnl_socket_sendto(sock_.get(), request.data(), request.size()) < 0)
        return system_error("sending sock_diag request");
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(sock_.get(), buf_.data(), buf_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return system_error("receiving sock_diag answer");
        }
        auto progress = parse(std::span<const uint8_t>(buf_.data(), static_cast<size_t>(n)));
        if (!progress) return progress.error();
        if (*progress == DiagProgress::done) return Ok{};
    }
}

Status DiagClient::destroy(const InetSocket& s) {
    const uint32_t seq = ++seq_;
    const auto request = build_destroy_request(s, seq);
    if (mnl_socket_sendto(sock_.get(), request.data(), request.size()) < 0)
        return system_error("sending SOCK_DESTROY");
    for (;;) {
        const ssize_t n = mnl_socket_recvfrom(sock_.get(), buf_.data(), buf_.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            return system_error("receiving the SOCK_DESTROY answer");
        }
        const int r = mnl_cb_run(buf_.data(), static_cast<size_t>(n), seq,
                                 mnl_socket_get_portid(sock_.get()), nullptr, nullptr);
        if (r == MNL_CB_ERROR) {
            const int e = errno;
            std::string why = std::strerror(e);
            if (e == EOPNOTSUPP)
                why += " (this kernel was built without CONFIG_INET_DIAG_DESTROY)";
            else if (e == EPERM)
                why += " (closing another's socket needs CAP_NET_ADMIN)";
            else if (e == ENOENT)
                why += " (the socket is gone)";
            return make_error("closing socket " + std::to_string(s.inode) + ": " + why, e);
        }
        if (r == MNL_CB_STOP) return Ok{};
    }
}

Result<std::optional<InetSocket>> DiagClient::find(Protocol protocol, const IpAddress& src,
                                                   uint16_t src_port, const IpAddress& dst,
                                                   uint16_t dst_port) {
    InetDiagRequest r;
    r.protocol = protocol;
    r.dump = false;
    // An IPv4 tuple finds dual-stack (AF_INET6) sockets too: the kernel looks it up in the shared
    // tables and answers with the socket's own family.
    r.family = src.unmapped().is_v4() && dst.unmapped().is_v4() ? Family::v4 : Family::v6;
    r.src = src;
    r.src_port = src_port;
    r.dst = dst;
    r.dst_port = dst_port;
    const uint32_t seq = ++seq_;
    std::vector<InetSocket> found;
    Status st = exchange(build_inet_diag_request(r, seq), [&](std::span<const uint8_t> d) {
        return parse_inet_diag_answer(d, seq, protocol, found);
    });
    if (!st) return st.error();
    if (found.empty()) return std::optional<InetSocket>();
    return std::optional<InetSocket>(std::move(found.front()));
}

Result<std::vector<InetSocket>> DiagClient::dump(Protocol protocol, Family family,
                                                 uint16_t src_port, bool tcp_info) {
    InetDiagRequest r;
    r.protocol = protocol;
    r.family = family;
    r.src = IpAddress::any(family);
    r.dst = IpAddress::any(family);
    r.src_port = src_port;
    r.tcp_info = tcp_info && protocol == Protocol::tcp;
    const uint32_t seq = ++seq_;
    std::vector<InetSocket> found;
    Status st = exchange(build_inet_diag_request(r, seq), [&](std::span<const uint8_t> d) {
        return parse_inet_diag_answer(d, seq, protocol, found);
    });
    if (!st) return st.error();
    return found;
}

Result<std::vector<UnixSocket>> DiagClient::dump_unix() {
    const uint32_t seq = ++seq_;
    std::vector<UnixSocket> found;
    Status st = exchange(build_unix_diag_request(seq), [&](std::span<const uint8_t> d) {
        return parse_unix_diag_answer(d, seq, found);
    });
    if (!st) return st.error();
    return found;
}

Result<SocketsSnapshot> DiagClient::sockets_dump(bool ipv6, bool tcp_info) {
    SocketsSnapshot snap;
    for (Protocol p : {Protocol::tcp, Protocol::udp, Protocol::udplite}) {
        for (Family f : {Family::v4, Family::v6}) {
            if (f == Family::v6 && !ipv6) continue;
            auto part = dump(p, f, 0, tcp_info);
            if (!part) {
                // UDPLite lives in a module that may not be loaded: nothing to list then.
                if (p == Protocol::udplite) continue;
                return Error{"dumping " + std::string(protocol_name(p)) +
                                 (f == Family::v6 ? "6" : "") + " sockets: " + part.error().message,
                             part.error().code};
            }
            snap.inet.insert(snap.inet.end(), std::make_move_iterator(part->begin()),
                             std::make_move_iterator(part->end()));
        }
    }
    auto unix_part = dump_unix();
    // unix_diag may be missing (module not loaded): the inet sockets still stand.
    if (unix_part) snap.unix_sockets = std::move(*unix_part);
    return snap;
}

bool ipv6_enabled(const std::string& proc_root) {
    return access((proc_root + "/sys/net/ipv6").c_str(), F_OK) == 0 ||
           access((proc_root + "/net/if_inet6").c_str(), F_OK) == 0;
}

}  // namespace tsnitch
