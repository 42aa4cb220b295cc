// The packet / conntrack mark bits tsnitch owns. The queue's verdict sets them on the packet; a
// firewall rule after the queue copies them to the conntrack entry (this kernel has no
// NETFILTER_NETLINK_GLUE_CT, so a verdict cannot set the connmark itself). Other bits of the
// mark are left as other tools set them.
#pragma once

#include <cstdint>

namespace tsnitch::nfq {

inline constexpr uint32_t kMarkMask = 0x0f000000;
inline constexpr uint32_t kMarkAllow = 0x0a000000;   // flow allowed: passes without queueing
inline constexpr uint32_t kMarkReject = 0x0b000000;  // answered with TCP RST / ICMP unreachable

inline constexpr uint32_t with_mark(uint32_t packet_mark, uint32_t ours) {
    return (packet_mark & ~kMarkMask) | ours;
}

}  // namespace tsnitch::nfq
