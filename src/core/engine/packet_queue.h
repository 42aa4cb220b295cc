// What the engine needs from a packet queue, without netfilter headers: packets in (with the
// kernel's packet id, uid and mark) and verdicts out by id, at any later time and from any thread.
// src/nfq implements it over NFQUEUE; the unit tests use a fake.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

namespace tsnitch {

// What happens to one queued packet. `allow` and `reject` mark the flow (connmark) so that the
// firewall rules act on the rest of it without queueing it again.
enum class Verdict : uint8_t {
    pass,    // accept, flow left unmarked (DNS answers, packets that open nothing)
    allow,   // accept and mark the flow as allowed
    deny,    // drop
    reject,  // accept with the reject mark: a firewall rule answers with a TCP RST / ICMP error
};
std::string_view verdict_name(Verdict v);

struct QueuedPacket {
    uint32_t id = 0;                 // the kernel's packet id (unique within its queue)
    std::span<const uint8_t> bytes;  // from the IP header on; valid only during the callback
    bool inbound = false;            // queued on the way in (DNS answers), else outbound
    std::optional<uint32_t> uid;     // the socket's owner, when the kernel knows it
    std::optional<uint32_t> gid;
    uint32_t mark = 0;  // the packet mark as queued (other tools' bits are kept)
    uint32_t ifindex_in = 0;
    uint32_t ifindex_out = 0;
    uint16_t queue = 0;  // the queue number it was read from: its verdict goes there
};

class VerdictSink {
  public:
    virtual ~VerdictSink() = default;
    // The packet is named by its queue and id (QueuedPacket::queue, ::id); `mark` is its mark as
    // it was queued, so that bits other tools use survive.
    virtual void set_verdict(uint16_t queue, uint32_t id, Verdict v, uint32_t mark) = 0;
};

}  // namespace tsnitch
