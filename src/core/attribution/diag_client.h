// A sock_diag client (NETLINK_SOCK_DIAG through libmnl). It sees the sockets of the network
// namespace its netlink socket was opened in.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/address.h"
#include "core/attribution/diag_message.h"
#include "core/attribution/socket_entry.h"
#include "core/connection.h"
#include "core/result.h"

struct mnl_socket;

namespace tsnitch {

struct SocketsSnapshot {
    std::vector<InetSocket> inet;  // tcp, udp, udplite; v4 and, when enabled, v6
    std::vector<UnixSocket> unix_sockets;
};

class DiagClient {
  public:
    static Result<DiagClient> open();
    // A client for the sockets of another network namespace (`netns_path`: /proc/PID/ns/net).
    // The calling thread enters it for the socket() call only and then returns to its own
    // namespace; needs CAP_SYS_ADMIN.
    static Result<DiagClient> open_in(const std::string& netns_path);

    // The socket with exactly this local (src) and remote (dst) end, nullopt when none.
    Result<std::optional<InetSocket>> find(Protocol protocol, const IpAddress& src,
                                           uint16_t src_port, const IpAddress& dst,
                                           uint16_t dst_port);
    // Every socket of (protocol, family) with this local port (0: every socket).
    // `tcp_info`: with TCP's byte counters (bytes_sent, bytes_received).
    Result<std::vector<InetSocket>> dump(Protocol protocol, Family family, uint16_t src_port = 0,
                                         bool tcp_info = false);
    Result<std::vector<UnixSocket>> dump_unix();

    // Closes the socket `s` (as dumped: same addresses, ports and cookie) with SOCK_DESTROY.
    Status destroy(const InetSocket& s);

    // Every TCP, UDP and UDPLite socket (IPv6 ones when `ipv6`) and every unix socket.
    Result<SocketsSnapshot> sockets_dump(bool ipv6, bool tcp_info = false);

  private:
    struct SocketCloser {
        void operator()(mnl_socket* s) const;
    };
    explicit DiagClient(mnl_socket* s);

    template <class Parse>
    Status exchange(const std::vector<uint8_t>& request, Parse&& parse);

    std::unique_ptr<mnl_socket, SocketCloser> sock_;
    uint32_t seq_ = 0;
    std::vector<uint8_t> buf_;
};

// Whether this system has IPv6 (not disabled at boot): `proc_root`/sys/net/ipv6 or
// `proc_root`/net/if_inet6 exists.
bool ipv6_enabled(const std::string& proc_root = "/proc");

}  // namespace tsnitch
