// The netlink side of NFQUEUE as pure functions over bytes (unit-tested and fuzzed): a datagram
// read from the queue socket holds netlink messages; each NFQNL_MSG_PACKET message carries one
// queued packet as attributes (packet id and hook, payload, uid/gid, mark, interfaces).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>

#include "core/engine/packet_queue.h"

namespace tsnitch::nfq {

// One netlink message (header included) as the kernel sent it for a queued packet; nullopt when
// it is not a packet message or is malformed (short header, an attribute that runs past the end,
// an attribute of the wrong size, no packet header or no payload). The packet's bytes point into
// `message`. `queue` is left 0: the caller knows which queue it read.
std::optional<QueuedPacket> parse_queue_packet(std::span<const uint8_t> message);

struct DatagramSummary {
    size_t packets = 0;    // messages that gave a packet
    size_t malformed = 0;  // messages that did not (including a truncated last one)
};

// Walks the messages of one datagram and calls `on_packet` for each packet in order.
DatagramSummary for_each_queued_packet(std::span<const uint8_t> datagram,
                                       const std::function<void(const QueuedPacket&)>& on_packet);

}  // namespace tsnitch::nfq
