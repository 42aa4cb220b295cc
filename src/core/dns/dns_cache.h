// Address -> host name, learnt from the DNS answers that pass the firewall. The queue thread adds,
// the engine and the front ends look up; all methods may be called from any thread.
//
// One name per address, and the newest answer wins: when a CDN address serves many names, the
// prompt that follows a lookup shows the name just looked up. Entries expire with their TTL, but
// never sooner than `min_ttl`, so a 0-TTL answer still names the connection that follows it. The
// number of entries is bounded; when full, the entry with the oldest answer goes first.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <list>
#include <optional>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/address.h"
#include "core/dns/dns_message.h"

namespace tsnitch {

// The form addresses are looked up in: connections may carry ::ffff:a.b.c.d (dual-stack sockets)
// or an interface scope, DNS answers carry neither.
IpAddress dns_cache_key(const IpAddress& a);

class DnsCache {
  public:
    using Clock = std::function<std::chrono::steady_clock::time_point()>;

    struct Options {
        size_t max_entries = 10000;
        std::chrono::seconds min_ttl{60};
        // A hostile or careless answer can't pin a name for weeks (resolvers cap TTLs alike).
        std::chrono::seconds max_ttl{std::chrono::hours(24)};
    };

    DnsCache() : DnsCache(Options{}) {}
    explicit DnsCache(Options options, Clock clock = std::chrono::steady_clock::now);

    // Every answer of a response (queries and answers without addresses add nothing).
    void add(const DnsMessage& message);
    void add(const IpAddress& address, std::string_view name, std::chrono::seconds ttl);

    // The name for an address while its entry lives. ::ffff:a.b.c.d finds a.b.c.d and an IPv6
    // scope is ignored, as connections carry them and answers do not.
    std::optional<std::string> lookup(const IpAddress& address) const;

    // The name with the time its entry expires, as lookup() finds it.
    struct Lookup {
        std::string name;
        std::chrono::steady_clock::time_point expires;
    };
    std::optional<Lookup> lookup_entry(const IpAddress& address) const;

    // Called (outside the cache's lock, on the thread that added) whenever an address is named
    // anew: it had no live name, or another one, or its name was dropped to make room. The
    // kernel path forgets what it cached for that address (DESIGN.md §8a). clear() calls it with
    // no address: every name went.
    void set_on_rename(std::function<void(const IpAddress* address)> f);

    size_t size() const;  // entries held; an expired one may stay until it is the oldest
    void clear();

    struct Named {
        IpAddress address;
        std::string name;
        std::chrono::steady_clock::time_point expires;
    };
    // The entries that live now, newest answer first (for the names file of `tsnitch sockets`).
    std::vector<Named> live_entries() const;
    // Changes with every add and clear: whether a copy made from live_entries() is out of date.
    uint64_t generation() const;

  private:
    using Entry = Named;

    // Returns the addresses named anew (for the rename callback).
    void add_locked(const IpAddress& address, std::string_view name, std::chrono::seconds ttl,
                    std::chrono::steady_clock::time_point now, std::vector<IpAddress>& renamed);
    void tell_renamed(const std::vector<IpAddress>& renamed) const;

    Options options_;
    Clock clock_;
    mutable std::shared_mutex mutex_;
    std::list<Entry> entries_;  // newest answer first
    std::unordered_map<IpAddress, std::list<Entry>::iterator> index_;
    uint64_t generation_ = 0;
    std::function<void(const IpAddress*)> on_rename_;  // set before use, read under mutex_
};

}  // namespace tsnitch
