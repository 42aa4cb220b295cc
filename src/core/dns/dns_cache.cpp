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
    std::vector<IpAddress> renamed;
    {
        std::unique_lock lock(mutex_);
        for (const DnsAnswer& a : message.answers)
            add_locked(a.address, a.name, std::chrono::seconds(a.ttl), now, renamed);
    }
    tell_renamed(renamed);
}

void DnsCache::add(const IpAddress& address, std::string_view name, std::chrono::seconds ttl) {
    const auto now = clock_();
    std::vector<IpAddress> renamed;
    {
        std::unique_lock lock(mutex_);
        add_locked(address, name, ttl, now, renamed);
    }
    tell_renamed(renamed);
}

void DnsCache::add_locked(const IpAddress& address, std::string_view name, std::chrono::seconds ttl,
                          std::chrono::steady_clock::time_point now,
                          std::vector<IpAddress>& renamed) {
    if (name.empty()) return;
    ++generation_;
    const IpAddress key = dns_cache_key(address);
    ttl = std::clamp(ttl, options_.min_ttl, std::max(options_.min_ttl, options_.max_ttl));
    bool same_name = false;
    if (auto it = index_.find(key); it != index_.end()) {
        same_name = it->second->expires > now && it->second->name == name;
        entries_.erase(it->second);
        index_.erase(it);
    }
    if (!same_name) renamed.push_back(key);
    entries_.push_front(Entry{key, std::string(name), now + ttl});
    index_.emplace(key, entries_.begin());
    // Expired entries go when they reach the end; the oldest answer goes when the cache is full.
    while (!entries_.empty() &&
           (entries_.size() > options_.max_entries || entries_.back().expires <= now)) {
        if (entries_.back().expires > now) renamed.push_back(entries_.back().address);
        index_.erase(entries_.back().address);
        entries_.pop_back();
    }
}

void DnsCache::tell_renamed(const std::vector<IpAddress>& renamed) const {
    std::function<void(const IpAddress*)> f;
    {
        std::shared_lock lock(mutex_);
        f = on_rename_;
    }
    if (!f) return;
    for (const IpAddress& a : renamed)
        f(&a);
}

void DnsCache::set_on_rename(std::function<void(const IpAddress*)> f) {
    std::unique_lock lock(mutex_);
    on_rename_ = std::move(f);
}

std::optional<DnsCache::Lookup> DnsCache::lookup_entry(const IpAddress& address) const {
    const auto now = clock_();
    std::shared_lock lock(mutex_);
    auto it = index_.find(dns_cache_key(address));
    if (it == index_.end() || it->second->expires <= now) return std::nullopt;
    return Lookup{it->second->name, it->second->expires};
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
    std::function<void(const IpAddress*)> f;
    {
        std::unique_lock lock(mutex_);
        entries_.clear();
        index_.clear();
        ++generation_;
        f = on_rename_;
    }
    if (f) f(nullptr);
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
