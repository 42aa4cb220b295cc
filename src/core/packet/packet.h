// Parsing of raw IP packets as NFQUEUE hands them over (no link-layer header). A pure function
// over a byte span: a truncated or malformed packet gives an Error, never a read out of bounds.
#pragma once

#include <cstdint>
#include <span>

#include "core/address.h"
#include "core/connection.h"
#include "core/result.h"

namespace tsnitch {

struct PacketInfo {
    Protocol protocol = Protocol::tcp;
    IpAddress src;
    IpAddress dst;
    uint16_t src_port = 0;  // 0 for ICMP/ICMPv6
    uint16_t dst_port = 0;
    uint8_t icmp_type = 0;  // ICMP/ICMPv6 only
    uint8_t icmp_code = 0;
    uint8_t tcp_flags = 0;  // TCP only: FIN 0x01, SYN 0x02, RST 0x04, PSH 0x08, ACK 0x10
    uint32_t tcp_seq = 0;   // TCP only: the sequence number (a SYN's: the connection's ISN)
    // A non-first fragment carries no transport header: ports are unknown (0).
    bool later_fragment = false;
    // Part of a fragmented datagram (the first or a later fragment): the payload is only this
    // fragment's share, and the transport header's length fields were not checked against it.
    bool fragment = false;
    // Where the transport header starts (a later fragment: where its data starts).
    size_t l4_offset = 0;
    // The transport payload (DNS lives here), inside the input; a later fragment: all its data.
    std::span<const uint8_t> payload;

    bool is_tcp_syn() const { return protocol == Protocol::tcp && (tcp_flags & 0x12) == 0x02; }
};

inline constexpr uint8_t kTcpFin = 0x01, kTcpSyn = 0x02, kTcpRst = 0x04, kTcpAck = 0x10;

Result<PacketInfo> parse_packet(std::span<const uint8_t> bytes);

}  // namespace tsnitch
