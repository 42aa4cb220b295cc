// Learning host names from the DNS answers that pass the firewall on their way in: the one call
// the queue thread makes for such a packet. UDP answers are read at once; TCP answers are put
// back together per connection (DnsTcpStream), for at most `max_tcp_streams` connections at a
// time (the least recently seen one is dropped first, and one that ends with FIN or RST at once).
//
// Only a reply to a query this machine sent should get here: the firewall rule that queues DNS
// answers matches conntrack state ESTABLISHED, so a forged answer from elsewhere can't name
// addresses. Not thread-safe: one queue thread calls learn(); the cache it fills is shared.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <list>
#include <map>
#include <span>
#include <utility>

#include "core/address.h"
#include "core/dns/dns_cache.h"
#include "core/dns/dns_tcp.h"
#include "core/packet/packet.h"
#include "core/result.h"

namespace tsnitch {

class DnsLearner {
  public:
    explicit DnsLearner(DnsCache& cache, size_t max_tcp_streams = 64);

    // `info` comes from parse_packet (its payload and tcp_seq are all that is read). Packets that
    // are not from port 53 (UDP or TCP) are ignored. Returns how many addresses were learnt; an
    // Error describes an answer that could not be read (worth a debug log line, never a reason
    // to drop the packet).
    Result<size_t> learn(const PacketInfo& info);

    size_t tcp_streams() const { return streams_.size(); }

  private:
    struct StreamKey {
        IpAddress server, client;
        uint16_t server_port = 0, client_port = 0;
        friend auto operator<=>(const StreamKey&, const StreamKey&) = default;
    };
    using Streams = std::list<std::pair<StreamKey, DnsTcpStream>>;

    Result<size_t> learn_message(std::span<const uint8_t> message);
    Result<size_t> learn_tcp(const PacketInfo& info);

    DnsCache& cache_;
    size_t max_streams_;
    Streams streams_;  // most recently seen first
    std::map<StreamKey, Streams::iterator> index_;
};

}  // namespace tsnitch
