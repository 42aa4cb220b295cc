// The pieces that keep decisions and rules in place: which flows a closed socket's reaping
// deletes, how nf_tables notifications are counted, the ctnetlink delete request, and the guard
// that repairs the rules when they change.
#include <doctest/doctest.h>

#include <libmnl/libmnl.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netfilter/nfnetlink_conntrack.h>
#include <sys/socket.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "nfq/conntrack.h"
#include "nfq/firewall_guard.h"
#include "nfq/flow_reaper.h"
#include "nfq/ruleset_watch.h"

using namespace tsnitch;
using namespace tsnitch::nfq;

namespace {

const IpAddress kMe = IpAddress::v4(0x0a4d0001), kPeer = IpAddress::v4(0x0a4d0002),
                kOther = IpAddress::v4(0x0a4d0003);

std::vector<uint8_t> messages(std::initializer_list<uint16_t> types) {
    std::vector<uint8_t> buf(4096);
    size_t used = 0;
    for (uint16_t type : types) {
        nlmsghdr* nlh = mnl_nlmsg_put_header(buf.data() + used);
        nlh->nlmsg_type = type;
        mnl_nlmsg_put_extra_header(nlh, sizeof(nfgenmsg));
        used += nlh->nlmsg_len;
    }
    buf.resize(used);
    return buf;
}

struct FakeFirewall : Firewall {
    int broken = 0;  // repairs still needed
    int checks = 0;
    std::string_view backend_name() const override { return "fake"; }
    Status install() override { return Ok{}; }
    Status remove() override { return Ok{}; }
    Result<bool> repair() override {
        ++checks;
        if (broken == 0) return false;
        --broken;
        return true;
    }
    bool notifies_changes() const override { return false; }
};

}  // namespace

TEST_CASE("a closed connected socket's own flow is reaped, and each flow allowed for it") {
    InetSocket s;
    s.protocol = Protocol::udp;
    s.family = Family::v6;
    s.src = kMe.mapped_v6();
    s.src_port = 40000;
    s.dst = kPeer.mapped_v6();
    s.dst_port = 53;
    const FlowKey same{Protocol::udp, kMe, 40000, kPeer, 53, 0};
    const FlowKey other{Protocol::udp, kMe, 40000, kOther, 123, 0};
    const auto t = flows_to_reap(s, std::vector<FlowKey>{same, other});
    REQUIRE(t.size() == 2);  // the socket's own flow once, though the engine named it too
    CHECK(t[0].src == kMe);  // as the packets name it: IPv4, not ::ffff:a.b.c.d
    CHECK(t[0].dst == kPeer);
    CHECK(t[0].dst_port == 53);
    CHECK(t[1].dst == kOther);

    // Not connected, bound to the wildcard address: only what the engine allowed for it.
    InetSocket u;
    u.protocol = Protocol::udp;
    u.src_port = 40001;
    CHECK(flows_to_reap(u, {}).empty());
    CHECK(flows_to_reap(u, std::vector<FlowKey>{other}).size() == 1);
}

TEST_CASE("nf_tables notifications count as ruleset changes; other subsystems' messages not") {
    const uint16_t rule = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWRULE;
    const uint16_t gen = (NFNL_SUBSYS_NFTABLES << 8) | NFT_MSG_NEWGEN;
    const uint16_t ct = (NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_NEW;
    CHECK(count_ruleset_changes(messages({rule, gen})) == 2);
    CHECK(count_ruleset_changes(messages({ct})) == 0);
    CHECK(count_ruleset_changes({}) == 0);
    // A datagram cut inside a message: the whole messages before it are counted, nothing more.
    std::vector<uint8_t> cut = messages({rule, rule});
    cut.resize(cut.size() - 3);
    CHECK(count_ruleset_changes(cut) == 1);
}

TEST_CASE("the ctnetlink delete names the original tuple: addresses, protocol and ports") {
    ConntrackTuple t{Protocol::udp, kMe.mapped_v6(), 40000, kPeer, 53};
    const std::vector<uint8_t> m = build_conntrack_delete(t, 7);
    const auto* nlh = reinterpret_cast<const nlmsghdr*>(m.data());
    REQUIRE(m.size() == nlh->nlmsg_len);
    CHECK(nlh->nlmsg_type == ((NFNL_SUBSYS_CTNETLINK << 8) | IPCTNL_MSG_CT_DELETE));
    CHECK(nlh->nlmsg_seq == 7);
    CHECK((nlh->nlmsg_flags & NLM_F_ACK) != 0);
    const auto* nfg = static_cast<const nfgenmsg*>(mnl_nlmsg_get_payload(nlh));
    CHECK(nfg->nfgen_family == AF_INET);  // the v4-mapped source is taken as IPv4
    const uint8_t src[] = {10, 77, 0, 1}, dst[] = {10, 77, 0, 2};
    const uint8_t* end = m.data() + m.size();
    // The address bytes and the ports appear in the message, in network order.
    CHECK(std::search(m.data(), end, src, src + 4) != end);
    CHECK(std::search(m.data(), end, dst, dst + 4) != end);
    const uint8_t sport[] = {0x9c, 0x40}, dport[] = {0x00, 0x35};
    CHECK(std::search(m.data(), end, sport, sport + 2) != end);
    CHECK(std::search(m.data(), end, dport, dport + 2) != end);
}

TEST_CASE("without notifications the guard checks on its period and says when it repaired") {
    FakeFirewall fw;
    FirewallGuard guard(fw, 30, 3);
    CHECK(guard.fd() == -1);  // the fake says it sends no notifications
    CHECK_FALSE(guard.watch_problem().empty());
    CHECK(guard.on_tick().info.empty());
    CHECK(guard.on_tick().info.empty());
    CHECK(fw.checks == 0);
    CHECK(guard.on_tick().info.empty());  // the third second: checked, nothing to repair
    CHECK(fw.checks == 1);
    fw.broken = 1;
    for (int i = 0; i < 2; ++i)
        CHECK(guard.on_tick().info.empty());
    const GuardNews news = guard.on_tick();
    CHECK(news.info.find("periodic check") != std::string::npos);
    CHECK(news.info.find("re-added") != std::string::npos);
    CHECK(news.error.empty());
    CHECK(guard.on_readable().info.empty());  // no watch: nothing to read
}
