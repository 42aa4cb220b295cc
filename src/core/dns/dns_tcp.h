// DNS over TCP (RFC 1035 §4.2.2, RFC 7766): every message is preceded by its length in two bytes,
// and one TCP segment may hold several messages, or only a part of one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <vector>

namespace tsnitch {

// The messages of one segment that starts at a message boundary. A pure function: what the
// segment does not finish is only counted.
struct DnsTcpSegment {
    std::vector<std::span<const uint8_t>> messages;  // without their prefix, inside the input
    size_t incomplete = 0;  // bytes at the end that start a message the segment does not finish
};
DnsTcpSegment split_dns_tcp(std::span<const uint8_t> segment);

// One direction of one TCP connection, put back together from its segments (the server's side,
// for answers). Retransmitted bytes are skipped by their sequence number; after a gap (a lost or
// reordered segment) the message boundaries are unknown, so the stream stops giving messages.
// Holds at most one unfinished message (64 KiB); the owner keeps one per connection and drops it
// when the connection ends.
class DnsTcpStream {
  public:
    // `seq` is the TCP sequence number of the payload's first byte. Returns the complete
    // messages, without their length prefix.
    std::vector<std::vector<uint8_t>> feed(uint32_t seq, std::span<const uint8_t> payload);

    bool lost() const { return lost_; }

  private:
    std::optional<uint32_t> next_seq_;
    std::vector<uint8_t> buffer_;
    bool lost_ = false;
};

}  // namespace tsnitch
