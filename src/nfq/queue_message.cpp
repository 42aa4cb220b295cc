#include "nfq/queue_message.h"

#include <algorithm>
#include <cstdint>

#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_queue.h>

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

namespace tsnitch::nfq {

namespace {

constexpr uint16_t kPacketMessage = (NFNL_SUBSYS_QUEUE << 8) | NFQNL_MSG_PACKET;

uint32_t u32_of(const nlattr* a) {
    return ntohl(mnl_attr_get_u32(a));
}

// The header fits and nlmsg_len neither undercuts it nor runs past the bytes. Not mnl_nlmsg_ok:
// it compares the length as a signed int, so a length over 2 GiB passes it (and its aligned
// value wraps to 0).
bool header_fits(std::span<const uint8_t> bytes) {
    if (bytes.size() < sizeof(nlmsghdr)) return false;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(bytes.data());
    return nlh->nlmsg_len >= sizeof(nlmsghdr) && nlh->nlmsg_len <= bytes.size();
}

}  // namespace

std::optional<QueuedPacket> parse_queue_packet(std::span<const uint8_t> message) {
    if (!header_fits(message)) return std::nullopt;
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(message.data());
    if (nlh->nlmsg_type != kPacketMessage) return std::nullopt;
    if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg))) return std::nullopt;
    // libnetfilter_queue's parser validates each attribute's length against its type.
    nlattr* attr[NFQA_MAX + 1] = {};
    if (nfq_nlmsg_parse(nlh, attr) < 0) return std::nullopt;
    if (!attr[NFQA_PACKET_HDR] || !attr[NFQA_PAYLOAD]) return std::nullopt;
    // libmnl walks the attributes up to the aligned end of the message, which may lie up to 3
    // bytes past it: an attribute that does not end within the message is not part of it.
    const uint8_t* end = message.data() + nlh->nlmsg_len;
    for (const nlattr* a : attr) {
        const auto* b = reinterpret_cast<const uint8_t*>(a);
        if (a && (end - b < static_cast<ptrdiff_t>(sizeof(nlattr)) || a->nla_len > end - b))
            return std::nullopt;
    }
    const auto* ph =
        static_cast<const nfqnl_msg_packet_hdr*>(mnl_attr_get_payload(attr[NFQA_PACKET_HDR]));
    QueuedPacket p;
    p.id = ntohl(ph->packet_id);
    p.inbound = ph->hook == NF_INET_LOCAL_IN || ph->hook == NF_INET_PRE_ROUTING;
    p.bytes = {static_cast<const uint8_t*>(mnl_attr_get_payload(attr[NFQA_PAYLOAD])),
               mnl_attr_get_payload_len(attr[NFQA_PAYLOAD])};
    if (attr[NFQA_UID]) p.uid = u32_of(attr[NFQA_UID]);
    if (attr[NFQA_GID]) p.gid = u32_of(attr[NFQA_GID]);
    if (attr[NFQA_MARK]) p.mark = u32_of(attr[NFQA_MARK]);
    if (attr[NFQA_IFINDEX_INDEV]) p.ifindex_in = u32_of(attr[NFQA_IFINDEX_INDEV]);
    if (attr[NFQA_IFINDEX_OUTDEV]) p.ifindex_out = u32_of(attr[NFQA_IFINDEX_OUTDEV]);
    return p;
}

DatagramSummary for_each_queued_packet(std::span<const uint8_t> datagram,
                                       const std::function<void(const QueuedPacket&)>& on_packet) {
    DatagramSummary s;
    size_t offset = 0;
    while (offset < datagram.size()) {
        const std::span<const uint8_t> rest = datagram.subspan(offset);
        if (!header_fits(rest)) {
            ++s.malformed;  // a truncated message ends the datagram
            break;
        }
        const auto* nlh = reinterpret_cast<const nlmsghdr*>(rest.data());
        // Errors and acknowledgements (a verdict for a packet that is gone) carry no packet.
        if (nlh->nlmsg_type >= NLMSG_MIN_TYPE) {
            if (auto p = parse_queue_packet(rest.first(nlh->nlmsg_len))) {
                ++s.packets;
                on_packet(*p);
            } else {
                ++s.malformed;
            }
        }
        offset += MNL_ALIGN(nlh->nlmsg_len);
    }
    return s;
}

}  // namespace tsnitch::nfq
