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

AttributionLadder::AttributionLadder(Options options)
    : options_(std::move(options)),
      socket_method_(options_.method == Method::proc ? Method::proc : Method::diag),
      ipv6_(ipv6_enabled(options_.proc_root)),
      index_(options_.proc_root),
      reader_(options_.proc_root) {
    if (socket_method_ == Method::diag) {
        auto client = DiagClient::open();
        if (client) {
            diag_.emplace(std::move(*client));
        } else {
            fallback_ = "sock_diag unavailable (" + client.error().message + "), using proc";
            socket_method_ = Method::proc;
        }
    }
    if (options_.warm_index) index_.refresh_all();
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
    std::lock_guard lock(mutex_);
    Attribution a;
    if (auto s = find_socket_locked(c)) {
        if (auto p = process_of_locked(s->inode, s->uid)) {
            a.process = std::move(*p);
            a.method = socket_method_;
        }
    }
    a.micros = micros_since(t0);
    return a;
}

std::optional<InetSocket> AttributionLadder::find_socket(const Connection& c) {
    std::lock_guard lock(mutex_);
    return find_socket_locked(c);
}

std::optional<InetSocket> AttributionLadder::find_socket_locked(const Connection& c) {
    if (!has_socket_table(c.protocol)) return std::nullopt;
    return socket_method_ == Method::diag ? find_socket_diag(c) : find_socket_proc(c);
}

std::optional<InetSocket> AttributionLadder::find_socket_diag(const Connection& c) {
    auto exact = diag_->find(c.protocol, c.src, c.src_port, c.dst, c.dst_port);
    if (exact && *exact && (*exact)->inode != 0) return **exact;
    // Unconnected, broadcast and multicast senders: every socket on the source port, scored.
    std::vector<InetSocket> candidates;
    const bool packet_v4 = c.src.unmapped().is_v4();
    for (Family f : {Family::v4, Family::v6}) {
        if ((f == Family::v4 && !packet_v4) || (f == Family::v6 && !ipv6_)) continue;
        auto part = diag_->dump(c.protocol, f, c.src_port);
        if (part) candidates.insert(candidates.end(), part->begin(), part->end());
    }
    return best_match(candidates, c);
}

std::optional<InetSocket> AttributionLadder::find_socket_proc(const Connection& c) {
    // A socket of the last read still alive (its inode still held where it was) is the answer
    // unless the tables changed meanwhile: a new socket on the same port is rare, a dead one is
    // caught by the inode check, and the tables are read again then.
    auto cached = best_match(proc_tables_, c);
    if (cached && index_.find_known(cached->inode)) return cached;
    // Read this protocol's tables again; the others stay as they were.
    std::erase_if(proc_tables_, [&](const InetSocket& s) { return s.protocol == c.protocol; });
    for (Family f : {Family::v4, Family::v6}) {
        auto table = read_proc_net(options_.proc_root, c.protocol, f);
        if (table) proc_tables_.insert(proc_tables_.end(), table->begin(), table->end());
    }
    return best_match(proc_tables_, c);
}

std::optional<ProcessInfo> AttributionLadder::process_of_locked(uint64_t inode,
                                                                std::optional<uint32_t> uid) {
    auto owner = index_.find(inode, uid);
    if (!owner) return std::nullopt;
    auto info = reader_.read(owner->pid);
    if (!info) return std::nullopt;
    return std::move(*info);
}

}  // namespace tsnitch
