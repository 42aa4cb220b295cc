// Which socket sent an outgoing packet, when the kernel has no socket with exactly its 5-tuple
// (unconnected UDP, broadcast and multicast senders, sockets bound elsewhere): score the sockets
// that use the packet's source port (DESIGN.md §6).
#pragma once

#include <optional>
#include <span>

#include "core/attribution/socket_entry.h"
#include "core/connection.h"

namespace tsnitch {

// Higher is better: exact tuple > same destination > bound to the packet's source address with no
// peer > wildcard-bound > bound to another address. nullopt: this socket cannot have sent `c`
// (other protocol or port, IPv6-only for an IPv4 packet, a TCP socket connected elsewhere).
// IPv4 packets of dual-stack sockets match their ::ffff:a.b.c.d addresses.
std::optional<int> match_score(const InetSocket& s, const Connection& c);

// The best-scoring socket; on a tie the one of the packet's own family, then the first listed.
std::optional<InetSocket> best_match(std::span<const InetSocket> sockets, const Connection& c);

}  // namespace tsnitch
