// HostNames over the DNS area: answers go through a DnsLearner (UDP at once, TCP reassembled)
// into a DnsCache, which connections are then looked up in.
#pragma once

#include "core/dns/dns_cache.h"
#include "core/dns/dns_learner.h"
#include "core/engine/host_names.h"

namespace tsnitch {

class DnsNames final : public HostNames {
  public:
    DnsNames() : cache_(DnsCache::Options{}), learner_(cache_) {}
    void learn(const PacketInfo& info, std::span<const uint8_t> /*packet*/) override {
        (void)learner_.learn(info);
    }
    std::optional<std::string> host_for(const IpAddress& a) override { return cache_.lookup(a); }
    const DnsCache& cache() const { return cache_; }
    // See DnsCache::set_on_rename (the kernel path's per-address decisions).
    void set_on_rename(std::function<void(const IpAddress*)> f) {
        cache_.set_on_rename(std::move(f));
    }

  private:
    DnsCache cache_;
    DnsLearner learner_;
};

}  // namespace tsnitch
