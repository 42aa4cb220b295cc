// tsnitch's firewall rules in the kernel: installed in its own chains (or its own nft table) in
// one transaction, found and replaced when a crashed run left them, re-added when another tool
// flushed them, and removed on exit (also from the destructor).
#pragma once

#include <memory>
#include <string>
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
    // Whether the kernel announces changes of these rules (nf_tables does, iptables-legacy not);
    // known after install().
    virtual bool notifies_changes() const = 0;
};

// Whether nft is there and the kernel has the nft `queue` expression (checked with nft -c in a
// throw-away network namespace: the kernel checks the table and discards it). `run` and `check`
// both ask this one function, so they never disagree.
struct NftQueueSupport {
    bool available = false;
    std::string reason;  // when not: "nft not installed", "the kernel has no nft queue expression"
};
NftQueueSupport nft_queue_support();

// `automatic` picks nftables when nft_queue_support() says so, else iptables.
Result<std::unique_ptr<Firewall>> make_firewall(FirewallBackend backend, const FirewallSpec& spec);

}  // namespace tsnitch::nfq
