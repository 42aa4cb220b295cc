// The first rung of the attribution ladder (DESIGN.md §6): the owner maps the BPF programs fill.
// Looks the packet's tuple up exactly, then with the source address unspecified (sockets not
// bound to an address), then by the cookie of the socket sock_diag reports for the tuple (a
// connected UDP socket whose first packet is still in the queue).
#pragma once

#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "bpf/bpf_monitor.h"
#include "core/attribution/attributor.h"
#include "core/attribution/process_model.h"

namespace tsnitch::bpf {

// Which lookup found the owner.
// recent, recent_any_source: the flow's slot in tsn_recent (memory, no system call).
enum class LookupStep { recent, flow, recent_any_source, flow_any_source, cookie };
// "recent", "flow", "recent-any-source", "flow-any-source", "cookie"
std::string_view lookup_step_name(LookupStep s);

struct OwnerMatch {
    SocketOwner owner;
    LookupStep step = LookupStep::flow;
};

class BpfAttributor : public Attributor {
  public:
    // `monitor` and `processes` must outlive the attributor. Without sock_diag (in `processes`)
    // the cookie step is skipped.
    BpfAttributor(BpfMonitor& monitor, ProcessModel& processes);

    // The whole rung (the decision thread): may ask sock_diag, read /proc and call NSS.
    Attribution attribute(const Connection& c) override;
    Method method() const override { return Method::ebpf; }

    // What the queue readers may ask (they never wait): the owner maps and the processes this
    // attributor described recently, nothing else. No process when either does not know it;
    // the decision thread then runs attribute(), which also fills the cache for the next time.
    Attribution attribute_from_memory(const Connection& c);

    // The owner as the maps know it, without reading /proc. `ask_diag`: also the cookie step
    // (a sock_diag round trip). `recent`: each key's tsn_recent slot before tsn_flows (the queue
    // readers' way: no system call when the slot has it); the decision thread asks tsn_flows
    // only, so that a flow swept from there is not found in a slot that still holds it.
    std::optional<OwnerMatch> find_owner(const Connection& c, bool ask_diag = true,
                                         bool recent = false);

  private:
    ProcessRef describe(const SocketOwner& owner);
    // The process described earlier for this very image: the owner record names the exec it
    // sent from (pid and exec time), so whatever the process did since (exec'd again, exited),
    // that description is who sent. No map or /proc read: the queue readers' rung.
    ProcessRef cached(const SocketOwner& owner, uint64_t now_ns) const;
    // What /proc says of the owner, when the process still runs the image it sent with.
    ProcessRef live(const SocketOwner& owner, const std::optional<ProcRecord>& proc);

    // Recently described live processes, keyed by tgid and valid while the process runs the same
    // image (the exec tracepoint makes a new one at every exec), so a map lookup replaces the
    // /proc reads on most packets.
    struct Cached {
        ProcessRef info;
        tsn_image_key image{};
        uint64_t at_ns = 0;  // CLOCK_BOOTTIME when read from /proc
    };
    std::unordered_map<uint32_t, Cached> cache_;  // guarded by cache_mutex_
    mutable std::mutex cache_mutex_;  // held for map operations only, never across a read

    BpfMonitor& monitor_;
    ProcessModel& processes_;
    uint64_t ns_per_tick_;
    std::mutex mutex_;  // describe(): the decision thread's slow steps
};

// BpfAttributor::attribute_from_memory as an Attributor: the rung the engine tries on the queue
// readers.
class BpfMemoryRung final : public Attributor {
  public:
    explicit BpfMemoryRung(BpfAttributor& a) : a_(a) {}
    Attribution attribute(const Connection& c) override { return a_.attribute_from_memory(c); }
    Method method() const override { return Method::ebpf; }

  private:
    BpfAttributor& a_;
};

}  // namespace tsnitch::bpf
