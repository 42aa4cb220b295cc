// tsnitch's firewall rules in the kernel: installed in its own chains (or its own nft table) in
// one transaction, found and replaced when a crashed run left them, re-added when another tool
// flushed them, and removed on exit (also from the destructor).
#pragma once

#include <memory>
#include <string_view>

#include "core/config.h"
#include "core/result.h"
#include "nfq/ruleset.h"

namespace tsnitch::nfq {

class Firewall {
  public:
    virtual ~Firewall() = default;
    virtual std::string_view backend_name() const = 0;  // "iptables" or "nftables"
    // Replaces rules of an earlier run, if any.
    virtual Status install() = 0;
    virtual Status remove() = 0;
    // Re-installs when the rules in the kernel are not the ones installed; true when it did.
    virtual Result<bool> repair() = 0;
};

// Whether nft is there and the kernel has the nft `queue` expression (checked with nft -c, which
// changes nothing).
bool nft_has_queue();
// IPv6 is on in this network namespace.
bool ipv6_enabled();

// `automatic` picks nftables when nft_has_queue(), else iptables.
Result<std::unique_ptr<Firewall>> make_firewall(FirewallBackend backend, const FirewallSpec& spec);

}  // namespace tsnitch::nfq
