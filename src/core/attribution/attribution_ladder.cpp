#include "core/attribution/attribution_ladder.h"

#include <chrono>

#include "core/attribution/proc_net.h"
#include "core/attribution/socket_match.h"

namespace tsnitch {

namespace {
bool has_socket_table(Protocol p) {
    return p == Protocol::tcp || p == Protocol::udp || p == Protocol::udplite;
}

uint64_t micros_since(std::chrono::steady_clock::time_point t0) {
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
            .count());
}
}  // namespace

AttributionLadder::AttributionLadder(ProcessModel& processes, Options options)
    : processes_(processes),
      options_(options),
      socket_method_(options_.method == Method::proc ? Method::proc : Method::diag) {
    if (socket_method_ == Method::diag && !processes_.has_diag()) {
        fallback_ = processes_.diag_error() + ", using proc";
        socket_method_ = Method::proc;
    }
}

Method AttributionLadder::method() const {
    return options_.first_rung ? options_.first_rung->method() : socket_method_;
}

Attribution AttributionLadder::attribute(const Connection& c) {
    const auto t0 = std::chrono::steady_clock::now();
    if (options_.first_rung) {
        Attribution a = options_.first_rung->attribute(c);
        if (a.process) {
            a.micros = micros_since(t0);
            return a;
        }
    }
    Attribution a;
    if (auto s = find_socket(c)) {
        if (ProcessRef p = process_of(s->inode, s->uid)) {
            a.process = std::move(p);
            a.method = socket_method_;
        }
    }
    a.micros = micros_since(t0);
    return a;
}

std::optional<InetSocket> AttributionLadder::find_socket(const Connection& c) {
    if (!has_socket_table(c.protocol)) return std::nullopt;
    if (socket_method_ == Method::diag) return find_socket_diag(c);
    std::lock_guard lock(mutex_);
    return find_socket_proc_locked(c);
}

std::optional<InetSocket> AttributionLadder::find_socket_diag(const Connection& c) {
    auto exact = processes_.find_socket(c.protocol, c.src, c.src_port, c.dst, c.dst_port);
    if (exact && *exact && (*exact)->inode != 0) return **exact;
    // Unconnected, broadcast and multicast senders: every socket on the source port, scored.
    std::vector<InetSocket> candidates;
    const bool packet_v4 = c.src.unmapped().is_v4();
    for (Family f : {Family::v4, Family::v6}) {
        if ((f == Family::v4 && !packet_v4) || (f == Family::v6 && !processes_.ipv6())) continue;
        auto part = processes_.sockets_on_port(c.protocol, f, c.src_port);
        if (part) candidates.insert(candidates.end(), part->begin(), part->end());
    }
    return best_match(candidates, c);
}

std::optional<InetSocket> AttributionLadder::find_socket_proc_locked(const Connection& c) {
    // A socket of the last read still alive (its inode still held where it was) is the answer
    // unless the tables changed meanwhile: a new socket on the same port is rare, a dead one is
    // caught by the inode check, and the tables are read again then.
    auto cached = best_match(proc_tables_, c);
    if (cached && processes_.known_owner(cached->inode)) return cached;
    // Read this protocol's tables again; the others stay as they were.
    std::erase_if(proc_tables_, [&](const InetSocket& s) { return s.protocol == c.protocol; });
    for (Family f : {Family::v4, Family::v6}) {
        auto table = read_proc_net(processes_.proc_root(), c.protocol, f);
        if (table) proc_tables_.insert(proc_tables_.end(), table->begin(), table->end());
    }
    return best_match(proc_tables_, c);
}

ProcessRef AttributionLadder::process_of(uint64_t inode, std::optional<uint32_t> uid) {
    auto owner = processes_.owner_of(inode, uid);
    if (!owner) return nullptr;
    auto info = processes_.process(owner->pid);
    if (!info) return nullptr;
    return std::move(*info);
}

}  // namespace tsnitch
