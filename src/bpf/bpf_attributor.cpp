#include "bpf/bpf_attributor.h"

#include <limits.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>

#include "bpf/flow_key.h"

namespace tsnitch::bpf {

namespace {

constexpr uint64_t kCacheTtlNs = 2'000'000'000;
constexpr size_t kMaxCached = 4096;

// exec records the path as it was passed to execve (/bin/sh, /usr/bin/python3); /proc/PID/exe
// shows it with the symlinks resolved, and rules are written against that form.
std::string canonical_exe_path(const std::string& path) {
    if (path.empty() || path[0] != '/') return path;
    char resolved[PATH_MAX];
    if (::realpath(path.c_str(), resolved) == nullptr) return path;
    return resolved;
}

}  // namespace

BpfAttributor::BpfAttributor(const BpfMonitor& monitor, std::string proc_root)
    : monitor_(monitor), proc_root_(std::move(proc_root)), reader_(proc_root_) {
    if (auto d = DiagClient::open()) diag_.emplace(std::move(*d));
    const long ticks = sysconf(_SC_CLK_TCK);
    ns_per_tick_ = 1000000000ull / static_cast<uint64_t>(ticks > 0 ? ticks : 100);
}

std::string_view lookup_step_name(LookupStep s) {
    switch (s) {
        case LookupStep::flow:
            return "flow";
        case LookupStep::flow_any_source:
            return "flow-any-source";
        case LookupStep::cookie:
            return "cookie";
    }
    return "?";
}

std::optional<OwnerMatch> BpfAttributor::find_owner(const Connection& c, bool ask_diag) {
    const tsn_flow_key key =
        make_flow_key(monitor_.netns_cookie(), c.protocol, c.src, c.src_port, c.dst, c.dst_port);
    if (auto o = monitor_.owner_of_flow(key)) return OwnerMatch{*o, LookupStep::flow};
    if (auto o = monitor_.owner_of_flow(without_source_address(key))) {
        return OwnerMatch{*o, LookupStep::flow_any_source};
    }
    if (ask_diag && diag_) {
        std::lock_guard lock(mutex_);
        auto s = diag_->find(c.protocol, c.src, c.src_port, c.dst, c.dst_port);
        if (s && *s && (*s)->cookie != 0) {
            if (auto o = monitor_.owner_of_socket((*s)->cookie)) {
                return OwnerMatch{*o, LookupStep::cookie};
            }
        }
    }
    return std::nullopt;
}

std::optional<ProcessInfo> BpfAttributor::cached(const SocketOwner& owner, uint64_t now_ns) const {
    Cached hit;
    {
        std::lock_guard lock(cache_mutex_);
        auto it = cache_.find(owner.tgid);
        if (it == cache_.end() || now_ns - it->second.at_ns > kCacheTtlNs) return std::nullopt;
        hit = it->second;
    }
    // As for a fresh read: the process must have started before the socket was used.
    if (hit.info.start_time * ns_per_tick_ > owner.time_ns) return std::nullopt;
    // Every exec and exit after loading is in the exec map: one newer than the cache entry
    // means another program (or another process with the same pid).
    if (auto e = monitor_.exec_of(owner.tgid)) {
        if (e->exec_ns >= hit.at_ns || e->exited) return std::nullopt;
    }
    return std::move(hit.info);
}

ProcessInfo BpfAttributor::describe(const SocketOwner& owner) {
    const int pid = static_cast<int>(owner.tgid);
    const uint64_t now = boot_time_ns();
    if (auto hit = cached(owner, now)) return std::move(*hit);
    std::lock_guard lock(mutex_);
    auto live = reader_.read(pid);
    // A process that started after the socket was used is another one with the same pid.
    const bool same = live && live->start_time * ns_per_tick_ <= owner.time_ns;
    ProcessInfo p;
    if (same) {
        p = std::move(*live);
        if (!p.path.empty()) {
            std::lock_guard cache_lock(cache_mutex_);
            if (cache_.size() >= kMaxCached) cache_.clear();
            cache_[owner.tgid] = Cached{p, now};
        }
    } else {
        p.pid = pid;
        p.uid = owner.uid;
        p.user = reader_.user_name(owner.uid);
    }
    // Gone, or a zombie whose exe can no longer be read: what exec left in the map.
    if (p.path.empty()) {
        if (auto e = monitor_.exec_of(owner.tgid)) {
            p.path = canonical_exe_path(e->path);
            if (p.ppid == 0) p.ppid = static_cast<int>(e->ppid);
        }
    }
    if (p.comm.empty()) p.comm = owner.comm;
    return p;
}

Attribution BpfAttributor::attribute(const Connection& c) {
    const auto start = std::chrono::steady_clock::now();
    Attribution a;
    if (auto match = find_owner(c)) {
        a.process = describe(match->owner);
        a.method = Method::ebpf;
    }
    a.micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count());
    return a;
}

Attribution BpfAttributor::attribute_from_memory(const Connection& c) {
    const auto start = std::chrono::steady_clock::now();
    Attribution a;
    if (auto match = find_owner(c, /*ask_diag=*/false)) {
        if (auto p = cached(match->owner, boot_time_ns())) {
            if (p->comm.empty()) p->comm = match->owner.comm;
            a.process = std::move(*p);
            a.method = Method::ebpf;
        }
    }
    a.micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count());
    return a;
}

}  // namespace tsnitch::bpf
