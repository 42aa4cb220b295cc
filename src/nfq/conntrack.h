// Deleting conntrack entries (ctnetlink, NETLINK_NETFILTER through libmnl). tsnitch's allow mark
// lives on a flow's conntrack entry; deleting the entry when the socket it was decided for is gone
// makes the next packet on the same addresses and ports a new flow that is queued and decided.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include "core/address.h"
#include "core/connection.h"
#include "core/result.h"

struct mnl_socket;

namespace tsnitch::nfq {

// A flow as its first packet went out: the original direction of the conntrack entry.
struct ConntrackTuple {
    Protocol protocol = Protocol::udp;  // a protocol with ports: tcp, udp, udplite, sctp
    IpAddress src;
    uint16_t src_port = 0;
    IpAddress dst;
    uint16_t dst_port = 0;
};

// IPCTNL_MSG_CT_DELETE of the entry whose original tuple is `t`, asking for an acknowledgement.
// Both addresses must be of one family (v4-mapped IPv6 addresses are taken as IPv4).
std::vector<uint8_t> build_conntrack_delete(const ConntrackTuple& t, uint32_t seq);

class ConntrackClient {
  public:
    static Result<ConntrackClient> open();
    // True when an entry was deleted, false when there was none.
    Result<bool> erase(const ConntrackTuple& t);

  private:
    struct SocketCloser {
        void operator()(mnl_socket* s) const;
    };
    explicit ConntrackClient(mnl_socket* s) : sock_(s) {}
    std::unique_ptr<mnl_socket, SocketCloser> sock_;
    uint32_t seq_ = 0;
};

}  // namespace tsnitch::nfq
