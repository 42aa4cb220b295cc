#include "core/engine/flow_cache.h"

#include <algorithm>
#include <vector>

namespace tsnitch {

FlowCache::FlowCache(std::chrono::seconds ttl, size_t max_entries)
    : ttl_(ttl), max_per_shard_(std::max<size_t>(1, max_entries / kShards)) {}

FlowCache::Shard& FlowCache::shard_of(const FlowKey& k) {
    // The high bits: the shard's own table buckets by the low ones.
    return shards_[(FlowKeyHash{}(k) >> 24) % kShards];
}

std::optional<Action> FlowCache::find(const FlowKey& k, Clock::time_point now) {
    Shard& s = shard_of(k);
    std::lock_guard lock(s.mu);
    auto it = s.entries.find(k);
    if (it == s.entries.end()) return std::nullopt;
    if (it->second.expires <= now) {
        s.entries.erase(it);
        return std::nullopt;
    }
    if (!it->second.fixed_life) it->second.expires = now + ttl_;
    return it->second.action;
}

void FlowCache::remember(const FlowKey& k, Action a, Clock::time_point now) {
    Shard& s = shard_of(k);
    std::lock_guard lock(s.mu);
    make_room_locked(s, k, now);
    s.entries[k] = {a, now + ttl_};
}

void FlowCache::remember_for(const FlowKey& k, Action a, Clock::time_point now,
                             Clock::duration life) {
    Shard& s = shard_of(k);
    std::lock_guard lock(s.mu);
    make_room_locked(s, k, now);
    s.entries[k] = {a, now + life, true};
}

bool FlowCache::remember_new(const FlowKey& k, Action a, Clock::time_point now) {
    Shard& s = shard_of(k);
    std::lock_guard lock(s.mu);
    make_room_locked(s, k, now);
    auto [it, fresh] = s.entries.try_emplace(k, Entry{a, now + ttl_});
    if (fresh) return true;
    if (it->second.expires > now) return false;
    it->second = {a, now + ttl_, false};  // an expired entry is no decision
    return true;
}

void FlowCache::make_room_locked(Shard& s, const FlowKey& k, Clock::time_point now) {
    auto& m = s.entries;
    if (m.size() < max_per_shard_ || m.contains(k)) return;
    std::erase_if(m, [now](const auto& kv) { return kv.second.expires <= now; });
    // Still full: forget the older half rather than grow without bound.
    if (m.size() >= max_per_shard_) {
        std::vector<Clock::time_point> t;
        t.reserve(m.size());
        for (const auto& kv : m)
            t.push_back(kv.second.expires);
        std::nth_element(t.begin(), t.begin() + static_cast<long>(t.size() / 2), t.end());
        const auto cut = t[t.size() / 2];
        std::erase_if(m, [cut](const auto& kv) { return kv.second.expires <= cut; });
    }
}

std::optional<Action> FlowCache::forget(const FlowKey& k) {
    Shard& s = shard_of(k);
    std::lock_guard lock(s.mu);
    auto it = s.entries.find(k);
    if (it == s.entries.end()) return std::nullopt;
    const Action a = it->second.action;
    s.entries.erase(it);
    return a;
}

std::vector<FlowKey> FlowCache::forget_if(const std::function<bool(const FlowKey&)>& match) {
    std::vector<FlowKey> allowed;
    for (Shard& s : shards_) {
        std::lock_guard lock(s.mu);
        std::erase_if(s.entries, [&](const auto& kv) {
            if (!match(kv.first)) return false;
            if (kv.second.action == Action::allow) allowed.push_back(kv.first);
            return true;
        });
    }
    return allowed;
}

void FlowCache::clear() {
    for (Shard& s : shards_) {
        std::lock_guard lock(s.mu);
        s.entries.clear();
    }
}

size_t FlowCache::size() const {
    size_t n = 0;
    for (const Shard& s : shards_) {
        std::lock_guard lock(s.mu);
        n += s.entries.size();
    }
    return n;
}

}  // namespace tsnitch
