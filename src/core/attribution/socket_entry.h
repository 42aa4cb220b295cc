// What the kernel says about one socket (sock_diag, or /proc/net/* for the proc method): the
// passive records that the attribution ladder scores and `tsnitch sockets` prints.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/address.h"
#include "core/connection.h"

namespace tsnitch {

// An internet socket. Addresses keep the socket's own family: an AF_INET6 socket talking IPv4
// holds ::ffff:a.b.c.d here, and `family` says AF_INET6.
struct InetSocket {
    Protocol protocol = Protocol::tcp;
    Family family = Family::v4;
    uint8_t state = 0;  // the kernel's TCP_* state number (UDP uses ESTABLISHED / CLOSE)
    IpAddress src;
    uint16_t src_port = 0;
    IpAddress dst;
    uint16_t dst_port = 0;
    uint32_t ifindex = 0;  // bound device, 0 when none
    uint32_t uid = 0;
    uint64_t inode = 0;  // 0 for sockets no file refers to (time_wait, orphans)
    uint64_t cookie = 0;
    uint32_t rqueue = 0;
    uint32_t wqueue = 0;
    bool v6only = false;  // AF_INET6 only: IPV6_V6ONLY set, so no IPv4 traffic
    // TCP only, when the dump asked for tcp_info (INET_DIAG_INFO): payload bytes sent (new data,
    // without retransmissions, SYN or FIN) and received (without the SYN or FIN), over the
    // socket's life; 0 when not asked or not given. UDP: sock_diag gives no byte counts.
    uint64_t bytes_sent = 0;
    uint64_t bytes_received = 0;

    bool has_peer() const { return dst_port != 0 || !dst.is_unspecified(); }
};

// A unix domain socket. `path` is the file path, "@name" for an abstract name, empty when unnamed.
struct UnixSocket {
    uint8_t type = 0;  // SOCK_STREAM, SOCK_DGRAM, SOCK_SEQPACKET
    uint8_t state = 0;
    uint64_t inode = 0;
    uint64_t peer_inode = 0;
    uint64_t cookie = 0;
    std::string path;
};

// The kernel's state name in lower case: "established", "syn_sent", "listen", "close", ...
std::string_view socket_state_name(uint8_t state);

}  // namespace tsnitch
