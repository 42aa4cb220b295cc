#include "bpf/bpf_attributor.h"

#include <unistd.h>

#include <chrono>

#include "bpf/flow_key.h"

namespace tsnitch::bpf {

namespace {

constexpr uint64_t kCacheTtlNs = 2'000'000'000;
constexpr size_t kMaxCached = 4096;

}  // namespace

BpfAttributor::BpfAttributor(BpfMonitor& monitor, ProcessModel& processes)
    : monitor_(monitor), processes_(processes) {
    const long ticks = sysconf(_SC_CLK_TCK);
    ns_per_tick_ = 1000000000ull / static_cast<uint64_t>(ticks > 0 ? ticks : 100);
}

std::string_view lookup_step_name(LookupStep s) {
    switch (s) {
        case LookupStep::recent:
            return "recent";
        case LookupStep::flow:
            return "flow";
        case LookupStep::recent_any_source:
            return "recent-any-source";
        case LookupStep::flow_any_source:
            return "flow-any-source";
        case LookupStep::cookie:
            return "cookie";
    }
    return "?";
}

std::optional<OwnerMatch> BpfAttributor::find_owner(const Connection& c, bool ask_diag,
                                                    bool recent) {
    const tsn_flow_key exact =
        make_flow_key(monitor_.netns_cookie(), c.protocol, c.src, c.src_port, c.dst, c.dst_port);
    // The exact key first, then the key without source address (an unconnected sender's); each
    // in its tsn_recent slot first when `recent`.
    const struct {
        tsn_flow_key key;
        LookupStep in_memory, in_map;
    } tries[] = {{exact, LookupStep::recent, LookupStep::flow},
                 {without_source_address(exact), LookupStep::recent_any_source,
                  LookupStep::flow_any_source}};
    for (const auto& t : tries) {
        if (recent) {
            if (auto o = monitor_.recent_owner(t.key)) return OwnerMatch{*o, t.in_memory};
        }
        if (auto o = monitor_.owner_of_flow(t.key)) return OwnerMatch{*o, t.in_map};
    }
    if (ask_diag && processes_.has_diag()) {
        auto s = processes_.find_socket(c.protocol, c.src, c.src_port, c.dst, c.dst_port);
        if (s && *s && (*s)->cookie != 0) {
            if (auto o = monitor_.owner_of_socket((*s)->cookie)) {
                return OwnerMatch{*o, LookupStep::cookie};
            }
        }
    }
    return std::nullopt;
}

ProcessRef BpfAttributor::live(const SocketOwner& owner, const std::optional<ProcRecord>& proc) {
    const bool image_known = owner.image.exec_ns != 0;
    // Exec'd since, exited, or the pid belongs to another process now: /proc shows someone else.
    if (image_known && (!proc || !same_image(proc->image, owner.image))) return nullptr;
    if (proc && proc->exited) return nullptr;
    auto p = processes_.process(static_cast<int>(owner.tgid));
    // A process that started after the socket was used is another one with the same pid.
    if (!p || (*p)->start_time * ns_per_tick_ > owner.time_ns) return nullptr;
    if (image_known) {
        // Checked again after reading: an exec between the map lookup and the reads.
        auto again = monitor_.proc_of(owner.tgid);
        if (!again || again->exited || !same_image(again->image, owner.image)) return nullptr;
    }
    return std::move(*p);
}

ProcessRef BpfAttributor::cached(const SocketOwner& owner, uint64_t now_ns) const {
    std::lock_guard lock(cache_mutex_);
    auto it = cache_.find(owner.tgid);
    if (it == cache_.end() || !same_image(it->second.image, owner.image) ||
        now_ns - it->second.at_ns > kCacheTtlNs) {
        return nullptr;
    }
    return it->second.info;
}

ProcessRef BpfAttributor::describe(const SocketOwner& owner) {
    const uint64_t now = boot_time_ns();
    if (ProcessRef hit = cached(owner, now)) return hit;
    const auto proc = monitor_.proc_of(owner.tgid);
    std::lock_guard lock(mutex_);
    const bool runs_it = proc && !proc->exited && same_image(proc->image, owner.image);
    const auto image = monitor_.image_of(owner.image);
    ProcessRef described = live(owner, proc);
    const bool from_proc = described != nullptr;
    // The kernel's name of the executable wins over /proc's: /proc/PID/exe names a container's
    // program by its path inside the container. Only then is the model's ProcessInfo copied.
    const bool kernel_path_differs =
        image && image->path && (!from_proc || described->path != *image->path);
    if (!from_proc || kernel_path_differs || described->comm.empty()) {
        ProcessInfo& p = copy_to_change(described);
        if (!from_proc) {
            // Gone, or running another program now: what exec recorded for the image it sent with.
            p.pid = static_cast<int>(owner.tgid);
            p.uid = owner.uid;
            p.user = processes_.user_name(owner.uid);
            if (image) {
                p.args = image->args;
                p.ppid = static_cast<int>(image->ppid);
            }
            if (proc && p.ppid == 0) p.ppid = static_cast<int>(proc->ppid);
        }
        if (image && image->path) p.path = *image->path;
        if (p.comm.empty()) p.comm = owner.comm;
    }
    if (from_proc && runs_it && !described->path.empty()) {
        std::lock_guard cache_lock(cache_mutex_);
        if (cache_.size() >= kMaxCached) cache_.clear();
        cache_[owner.tgid] = Cached{described, owner.image, now};
    }
    return described;
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
    if (auto match = find_owner(c, /*ask_diag=*/false, /*recent=*/true)) {
        if (ProcessRef p = cached(match->owner, boot_time_ns())) {
            a.process = std::move(p);
            a.method = Method::ebpf;
        }
    }
    a.micros = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(
                                         std::chrono::steady_clock::now() - start)
                                         .count());
    return a;
}

}  // namespace tsnitch::bpf
