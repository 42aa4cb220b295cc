// Decided flows and their verdicts, so that SYN retransmits and datagrams queued before the
// connmark took hold get the same verdict without a new decision. Shared by every queue reader
// and the decision thread: the cache is split into shards by key hash, each with its own lock and
// its own bound, so a lookup waits only on operations of the same shard and the clean-up of a
// full shard (linear in the shard) holds up only the packets that fall into it.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <unordered_map>
#include <vector>

#include "core/connection.h"
#include "core/engine/flow.h"

namespace tsnitch {

class FlowCache {
  public:
    using Clock = std::chrono::steady_clock;

    // Entries live `ttl` after their last use; at most about `max_entries` are kept.
    FlowCache(std::chrono::seconds ttl, size_t max_entries);

    // The action remembered for `k` when it has not expired (its life is then extended).
    std::optional<Action> find(const FlowKey& k, Clock::time_point now);
    void remember(const FlowKey& k, Action a, Clock::time_point now);
    // Remembers `k` for `life` only, however often it is found: a decision that held for a
    // moment (DefaultAction under overload), which the flow's later retransmits must not inherit.
    void remember_for(const FlowKey& k, Action a, Clock::time_point now, Clock::duration life);
    // Remembers `k` unless a live entry has it already (then false, and that entry stays): one
    // look-up for "decide it unless somebody did".
    bool remember_new(const FlowKey& k, Action a, Clock::time_point now);
    // Forgets `k`; what it was remembered as, if it was.
    std::optional<Action> forget(const FlowKey& k);
    // Forgets every flow `match` selects; returns those of them that were allowed.
    std::vector<FlowKey> forget_if(const std::function<bool(const FlowKey&)>& match);
    void clear();
    size_t size() const;

  private:
    static constexpr size_t kShards = 16;
    struct Entry {
        Action action;
        Clock::time_point expires;
        bool fixed_life = false;  // remember_for: a use does not extend it
    };
    struct Shard {
        mutable std::mutex mu;
        std::unordered_map<FlowKey, Entry, FlowKeyHash> entries;
    };
    Shard& shard_of(const FlowKey& k);
    // Before an insert of `k` into a full shard: drops the expired entries, then the older half.
    void make_room_locked(Shard& s, const FlowKey& k, Clock::time_point now);

    std::chrono::seconds ttl_;
    size_t max_per_shard_;
    std::array<Shard, kShards> shards_;
};

}  // namespace tsnitch
