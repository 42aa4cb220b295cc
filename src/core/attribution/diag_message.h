// sock_diag netlink messages (NETLINK_SOCK_DIAG): building the requests and parsing the answers.
// Pure functions over byte spans, so that unit tests and the fuzzer call them without a socket.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/address.h"
#include "core/attribution/socket_entry.h"
#include "core/connection.h"
#include "core/result.h"

namespace tsnitch {

// One inet_diag_req_v2. A dump lists every socket of (family, protocol) in `states`, narrowed by
// the kernel to src_port / dst_port when they are not 0. An exact query (dump == false) names one
// socket by its local (src) and remote (dst) address and port.
struct InetDiagRequest {
    Protocol protocol = Protocol::tcp;  // tcp, udp or udplite
    Family family = Family::v4;
    bool dump = true;
    uint32_t states = 0xffffffffu;  // bit n: TCP state n
    IpAddress src;
    uint16_t src_port = 0;
    IpAddress dst;
    uint16_t dst_port = 0;
    uint32_t ifindex = 0;
    bool tcp_info = false;  // ask for INET_DIAG_INFO (TCP's byte counters)
};

std::vector<uint8_t> build_inet_diag_request(const InetDiagRequest& r, uint32_t seq);
// SOCK_DESTROY of the socket `s` names (with its cookie, so that a socket that took over the same
// addresses meanwhile is left alone), asking for an acknowledgement.
std::vector<uint8_t> build_destroy_request(const InetSocket& s, uint32_t seq);
// A dump of every unix socket, with names and peers.
std::vector<uint8_t> build_unix_diag_request(uint32_t seq);

// Whether the answer to a request goes on in further datagrams.
enum class DiagProgress : uint8_t { more, done };

// Parses one received datagram (one or more netlink messages) of the answer to request `seq`
// (0: any) and appends the sockets to `out`. NLMSG_DONE, and the ENOENT error that an exact query
// for a socket that does not exist gets, end the answer normally. A message that is truncated, or
// whose attributes overrun it, is an error; so is any other netlink error.
Result<DiagProgress> parse_inet_diag_answer(std::span<const uint8_t> datagram, uint32_t seq,
                                            Protocol protocol, std::vector<InetSocket>& out);
Result<DiagProgress> parse_unix_diag_answer(std::span<const uint8_t> datagram, uint32_t seq,
                                            std::vector<UnixSocket>& out);

}  // namespace tsnitch
