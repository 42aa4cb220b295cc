// The proc method's socket tables: /proc/net/{tcp,udp,udplite}{,6} of the reader's network
// namespace (`proc_root`/net is /proc/self/net).
#pragma once

#include <string>
#include <vector>

#include "core/attribution/socket_entry.h"
#include "core/connection.h"
#include "core/result.h"

namespace tsnitch {

// The sockets listed in `proc_root`/net/NAME for (protocol, family); a missing table (no IPv6,
// no UDPLite) is an empty list.
Result<std::vector<InetSocket>> read_proc_net(const std::string& proc_root, Protocol protocol,
                                              Family family);

}  // namespace tsnitch
