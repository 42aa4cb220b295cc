// Notices a change of the kernel's firewall rules when it happens. nf_tables (which both nft and
// iptables-nft, Debian's iptables, go through) sends a message to the NFNLGRP_NFTABLES group of
// NETLINK_NETFILTER for every table, chain, rule or set that is added or deleted and at every
// commit, in the network namespace of the socket. iptables-legacy sends nothing: there a timer
// stays the only way (FirewallGuard keeps one).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>

#include "core/result.h"

struct mnl_socket;

namespace tsnitch::nfq {

class RulesetWatch {
  public:
    static Result<RulesetWatch> open();

    // Readable when a notification is waiting.
    int fd() const;
    // Reads every waiting notification without blocking; true when any says that the ruleset
    // changed, or when some were lost (the socket's buffer overflowed), false when none was there.
    Result<bool> drain();

  private:
    struct SocketCloser {
        void operator()(mnl_socket* s) const;
    };
    explicit RulesetWatch(mnl_socket* s) : sock_(s) {}
    std::unique_ptr<mnl_socket, SocketCloser> sock_;
};

// How many of the netlink messages in one received datagram tell of a ruleset change (nf_tables
// messages: tables, chains, rules, sets, set elements, generations). Stops at the first message
// that does not fit in the datagram.
size_t count_ruleset_changes(std::span<const uint8_t> datagram);

}  // namespace tsnitch::nfq
