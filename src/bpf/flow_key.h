// The owner map's key as user space builds it from a packet's tuple (or a sock_diag entry). It
// must come out byte for byte as the BPF programs build it, so the rules live in one place here:
// IPv4 in the first 4 bytes, v4-mapped IPv6 stored as IPv4, ports in host order.
#pragma once

#include <cstdint>

#include "bpf/tsnitch_bpf.h"
#include "core/address.h"
#include "core/connection.h"
#include "core/result.h"

namespace tsnitch::bpf {

// A v4-mapped address on either side turns the key into an IPv4 one (the packet on the wire is
// IPv4); an unspecified source stays all zero.
tsn_flow_key make_flow_key(uint64_t netns, Protocol protocol, const IpAddress& src, uint16_t sport,
                           const IpAddress& dst, uint16_t dport);

// The same key with the source address zeroed: sockets not bound to an address (UDP sendto) are
// stored that way.
tsn_flow_key without_source_address(tsn_flow_key key);

// The network namespace cookie of the calling thread's namespace (SO_NETNS_COOKIE), the same
// value bpf_get_netns_cookie returns for sockets there.
Result<uint64_t> current_netns_cookie();

}  // namespace tsnitch::bpf
