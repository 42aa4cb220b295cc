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

}  // namespace

std::optional<QueuedPacket> parse_queue_packet(std::span<const uint8_t> message) {
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(message.data());
    // mnl_nlmsg_ok: the header fits and nlmsg_len neither undercuts it nor runs past the bytes.
    if (!mnl_nlmsg_ok(nlh, static_cast<int>(std::min<size_t>(message.size(), INT32_MAX))))
        return std::nullopt;
    if (nlh->nlmsg_type != kPacketMessage) return std::nullopt;
    if (nlh->nlmsg_len < MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg))) return std::nullopt;
    // libnetfilter_queue's parser validates each attribute's length against its type.
    nlattr* attr[NFQA_MAX + 1] = {};
    if (nfq_nlmsg_parse(nlh, attr) < 0) return std::nullopt;
    if (!attr[NFQA_PACKET_HDR] || !attr[NFQA_PAYLOAD]) return std::nullopt;
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
        const auto* nlh = reinterpret_cast<const nlmsghdr*>(rest.data());
        if (!mnl_nlmsg_ok(nlh, static_cast<int>(std::min<size_t>(rest.size(), INT32_MAX)))) {
            ++s.malformed;  // a truncated message ends the datagram
            break;
        }
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
