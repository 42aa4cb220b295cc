// NFQUEUE packet messages as the kernel sends them, parsed without a socket.
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nfnetlink_queue.h>

#include <cstring>
#include <vector>

#include <doctest/doctest.h>
#include "nfq/queue_message.h"

extern "C" {
#include <libnetfilter_queue/libnetfilter_queue.h>
}

using namespace tsnitch;
using namespace tsnitch::nfq;

namespace {

struct MessageSpec {
    uint32_t id = 7;
    uint8_t hook = NF_INET_LOCAL_OUT;
    std::vector<uint8_t> payload = {0x45, 0, 0, 20};
    bool with_header = true;
    bool with_payload = true;
    std::optional<uint32_t> uid = 1000;
    std::optional<uint32_t> gid = 100;
    uint32_t mark = 0x20;
    uint32_t outdev = 3;
    uint16_t type = NFQNL_MSG_PACKET;
};

// One message, built as the kernel builds it (nfgenmsg, then attributes in network order).
std::vector<uint8_t> message(const MessageSpec& m) {
    std::vector<uint8_t> buf(4096);
    nlmsghdr* nlh = nfq_nlmsg_put(reinterpret_cast<char*>(buf.data()), m.type, 5);
    if (m.with_header) {
        nfqnl_msg_packet_hdr ph{};
        ph.packet_id = htonl(m.id);
        ph.hw_protocol = htons(0x0800);
        ph.hook = m.hook;
        mnl_attr_put(nlh, NFQA_PACKET_HDR, sizeof ph, &ph);
    }
    mnl_attr_put_u32(nlh, NFQA_MARK, htonl(m.mark));
    mnl_attr_put_u32(nlh, NFQA_IFINDEX_OUTDEV, htonl(m.outdev));
    if (m.uid) mnl_attr_put_u32(nlh, NFQA_UID, htonl(*m.uid));
    if (m.gid) mnl_attr_put_u32(nlh, NFQA_GID, htonl(*m.gid));
    if (m.with_payload) mnl_attr_put(nlh, NFQA_PAYLOAD, m.payload.size(), m.payload.data());
    buf.resize(nlh->nlmsg_len);
    return buf;
}

}  // namespace

TEST_CASE("a packet message gives the packet id, direction, payload, owner, mark and interface") {
    const auto msg = message({});
    const auto p = parse_queue_packet(msg);
    REQUIRE(p);
    CHECK(p->id == 7u);
    CHECK_FALSE(p->inbound);
    CHECK(std::vector<uint8_t>(p->bytes.begin(), p->bytes.end()) ==
          std::vector<uint8_t>{0x45, 0, 0, 20});
    CHECK(p->uid == 1000u);
    CHECK(p->gid == 100u);
    CHECK(p->mark == 0x20u);
    CHECK(p->ifindex_out == 3u);
    CHECK(p->ifindex_in == 0u);
}

TEST_CASE("packets queued on the way in (DNS answers) are inbound; no uid is no uid") {
    MessageSpec m;
    m.hook = NF_INET_LOCAL_IN;
    m.uid.reset();
    m.gid.reset();
    const auto msg = message(m);
    const auto p = parse_queue_packet(msg);
    REQUIRE(p);
    CHECK(p->inbound);
    CHECK_FALSE(p->uid);
    CHECK_FALSE(p->gid);
}

TEST_CASE("a message without packet header or payload, or of another type, is no packet") {
    MessageSpec no_header;
    no_header.with_header = false;
    MessageSpec no_payload;
    no_payload.with_payload = false;
    MessageSpec config;
    config.type = NFQNL_MSG_CONFIG;
    for (const MessageSpec& m : {no_header, no_payload, config})
        CHECK_FALSE(parse_queue_packet(message(m)));
}

TEST_CASE("every truncation of a packet message is refused, never read past") {
    const auto msg = message({});
    for (size_t n = 0; n < msg.size(); ++n) {
        std::vector<uint8_t> cut(msg.begin(), msg.begin() + static_cast<long>(n));
        CHECK_FALSE(parse_queue_packet(cut));
    }
}

TEST_CASE("an attribute of the wrong size is refused") {
    auto msg = message({});
    // Shrink the packet header attribute (the first, right after nfgenmsg) below its struct.
    const size_t at = MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nfgenmsg));
    auto* attr = reinterpret_cast<nlattr*>(msg.data() + at);
    REQUIRE(attr->nla_type == NFQA_PACKET_HDR);
    attr->nla_len = MNL_ATTR_HDRLEN + 2;
    CHECK_FALSE(parse_queue_packet(msg));
}

TEST_CASE("a datagram's packets come in order; errors are skipped, a torn tail is counted") {
    MessageSpec second;
    second.id = 8;
    auto datagram = message({});
    const auto b = message(second);
    datagram.insert(datagram.end(), b.begin(), b.end());
    // An NLMSG_ERROR (as for a verdict on a packet that is gone) between them carries no packet.
    std::vector<uint8_t> err(MNL_NLMSG_HDRLEN + MNL_ALIGN(sizeof(nlmsgerr)));
    auto* e = reinterpret_cast<nlmsghdr*>(err.data());
    e->nlmsg_len = static_cast<uint32_t>(err.size());
    e->nlmsg_type = NLMSG_ERROR;
    datagram.insert(datagram.begin() + static_cast<long>(message({}).size()), err.begin(),
                    err.end());
    std::vector<uint32_t> ids;
    auto s = for_each_queued_packet(datagram, [&](const QueuedPacket& p) { ids.push_back(p.id); });
    CHECK(ids == std::vector<uint32_t>{7, 8});
    CHECK(s.packets == 2);
    CHECK(s.malformed == 0);

    datagram.push_back(0x40);  // the start of a header that never ends
    ids.clear();
    s = for_each_queued_packet(datagram, [&](const QueuedPacket& p) { ids.push_back(p.id); });
    CHECK(ids.size() == 2);
    CHECK(s.malformed == 1);
}
