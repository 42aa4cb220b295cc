#include "core/dns/dns_cache.h"

#include <algorithm>
#include <mutex>

namespace tsnitch {

IpAddress dns_cache_key(const IpAddress& a) {
    const IpAddress u = a.unmapped();
    if (u.is_v6() && u.scope_id() != 0) return IpAddress::v6_bytes(u.bytes().first<16>());
    return u;
}

DnsCache::DnsCache(Options options, Clock clock) : options_(options), clock_(std::move(clock)) {
    options_.max_entries = std::max<size_t>(options_.max_entries, 1);
}

void DnsCache::add(const DnsMessage& message) {
    if (!message.is_response || message.answers.empty()) return;
    const auto now = clock_();
    std::unique_lock lock(mutex_);
    for (const DnsAnswer& a : message.answers)
        add_locked(a.address, a.name, std::chrono::seconds(a.ttl), now);
}

void DnsCache::add(const IpAddress& address, std::string_view name, std::chrono::seconds ttl) {
    const auto now = clock_();
    std::unique_lock lock(mutex_);
    add_locked(address, name, ttl, now);
}

void DnsCache::add_locked(const IpAddress& address, std::string_view name, std::chrono::seconds ttl,
                          std::chrono::steady_clock::time_point now) {
    if (name.empty()) return;
    ++generation_;
    const IpAddress key = dns_cache_key(address);
    ttl = std::clamp(ttl, options_.min_ttl, std::max(options_.min_ttl, options_.max_ttl));
    if (auto it = index_.find(key); it != index_.end()) {
        entries_.erase(it->second);
        index_.erase(it);
    }
    entries_.push_front(Entry{key, std::string(name), now + ttl});
    index_.emplace(key, entries_.begin());
    // Expired entries go when they reach the end; the oldest answer goes when the cache is full.
    while (!entries_.empty() &&
           (entries_.size() > options_.max_entries || entries_.back().expires <= now)) {
        index_.erase(entries_.back().address);
        entries_.pop_back();
    }
}

std::optional<std::string> DnsCache::lookup(const IpAddress& address) const {
    const auto now = clock_();
    std::shared_lock lock(mutex_);
    auto it = index_.find(dns_cache_key(address));
    if (it == index_.end() || it->second->expires <= now) return std::nullopt;
    return it->second->name;
}

size_t DnsCache::size() const {
    std::shared_lock lock(mutex_);
    return entries_.size();
}

void DnsCache::clear() {
    std::unique_lock lock(mutex_);
    entries_.clear();
    index_.clear();
    ++generation_;
}

std::vector<DnsCache::Named> DnsCache::live_entries() const {
    const auto now = clock_();
    std::shared_lock lock(mutex_);
    std::vector<Named> out;
    out.reserve(entries_.size());
    for (const Entry& e : entries_)
        if (e.expires > now) out.push_back(e);
    return out;
}

uint64_t DnsCache::generation() const {
    std::shared_lock lock(mutex_);
    return generation_;
}

}  // namespace tsnitch
