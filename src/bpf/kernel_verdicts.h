// The kernel path in user space (DESIGN.md §8a): loads verdict.bpf.c, attaches its connect/
// sendmsg programs to the cgroup v2 root, pins its two socket filters for the firewall's xt_bpf
// rules, stores the decisions the rules allow it to repeat, and turns the kernel's decisions
// (ring-buffer records) back into events.
//
// User space stays the source of truth: a decision is stored only when
// RuleStore::match_for_kernel_cache says the rules decide the flow's key alone, under the epoch
// read before that analysis; every rule change bumps the epoch (invalidate()), which makes every
// stored decision stale at once.
//
// RAII: the links and the skeleton are owned by this object (and by the process: nothing stays
// attached after exit); the pins are removed by the destructor, and pins left by an instance
// that died are found and removed by the next one.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>

#include "bpf/verdict_bpf.h"
#include "core/attribution/process_model.h"
#include "core/connection.h"
#include "core/dns/dns_cache.h"
#include "core/engine/engine.h"
#include "core/result.h"
#include "core/rules/rule_store.h"
#include "core/unique_fd.h"

struct tsnitch_verdict;  // the generated skeleton
struct ring_buffer;

namespace tsnitch::bpf {

struct KernelPathOptions {
    // Test knobs, also read from the environment (documented as test-only in tsnitch(8)):
    // TSNITCH_KPATH_CGROUP: attach to this cgroup (a path below the cgroup v2 root, e.g.
    // /test-1234) instead of the root;
    // TSNITCH_KPATH_RING_BYTES: the ring buffer's size, at most 1 GiB (libbpf rounds it up to a
    // power of two pages); TSNITCH_KPATH_READ_MS: how often the ring buffer is read;
    // TSNITCH_KPATH_WAKE_BYTES: how many bytes of records waiting wake the reader early (0: never);
    // TSNITCH_KPATH_DISABLE=1: act as if the kernel had no kernel path.
    std::string cgroup;
    uint32_t ring_bytes = 0;  // 0: TSN_RING_BYTES
    // Bytes of records waiting that wake the reader before its timer; none: a quarter of the
    // ring; 0: only the timer reads.
    std::optional<uint32_t> wake_bytes;
    std::chrono::milliseconds read_interval{100};
    bool disable = false;
    // The attribution module's tsn_flows, tsn_socks and tsn_recent (BpfMonitor::flows_map_fd,
    // socks_map_fd and recent_map_fd), shared so that the xt_bpf program files the flow keys of
    // SYNs there, and its tsn_procs (procs_map_fd), where exec noted each process's executable
    // identity so that a connect need not walk its path; -1: no module runs.
    int flows_map_fd = -1;
    int socks_map_fd = -1;
    int recent_map_fd = -1;
    int procs_map_fd = -1;
};

// Options with the environment's test knobs applied; an error names a knob that is not a number.
Result<KernelPathOptions> kernel_path_options_from_env(KernelPathOptions base = {});

// The kernel's key of a decision, built from what user space knows of a flow.
tsn_verdict_key make_verdict_key(const tsn_exe_id& exe, uint32_t uid, Protocol protocol,
                                 const IpAddress& dst, uint16_t dport);

// A ring-buffer record as the event it stands for (the rule name and executable path filled in by
// the caller). `boot_now_ns` / `now` convert the record's CLOCK_BOOTTIME stamp to wall time.
DecisionEvent event_of_record(const tsn_decision& r, uint64_t boot_now_ns,
                              std::chrono::system_clock::time_point now);

struct KernelPathStats {
    uint64_t stored = 0;         // decisions stored in the verdict map
    uint64_t not_cacheable = 0;  // rule decisions the kernel may not repeat
    // Decisions whose flow the kernel did not note, or noted under a name that is no longer the
    // one the rules saw (a renamed file): left to the queue.
    uint64_t no_identity = 0;
    uint64_t decisions = 0;    // kernel-path decisions read from the ring buffer
    uint64_t early_reads = 0;  // reads before the timer's: a quarter of the ring was waiting
    uint32_t epoch = 0;
};

class KernelVerdicts final : public EngineObserver {
  public:
    // Loads, attaches and pins. Fails when the kernel offers no kernel path (the caller goes on
    // with the queue path alone, and says so).
    // `names` (may be null): the DNS cache whose names dest.host rules read; the caller
    // connects its rename notification to address_renamed(). `processes`: the process model the
    // records' events are completed from (must outlive this).
    static Result<std::unique_ptr<KernelVerdicts>> create(RuleStore& rules, const DnsCache* names,
                                                          ProcessModel& processes,
                                                          const KernelPathOptions& options);
    ~KernelVerdicts() override;
    KernelVerdicts(const KernelVerdicts&) = delete;
    KernelVerdicts& operator=(const KernelVerdicts&) = delete;

    // For the firewall's `-m bpf --object-pinned` rules.
    const std::string& pass_pin() const { return pass_pin_; }
    // The pins live in a bpf file system mounted for this instance (unmounted at exit).
    bool owns_mount() const { return own_mount_; }
    // True when the xt_bpf program files the TCP flow keys in the attribution module's maps:
    // its sockops program may go once the rules that run this one are installed.
    bool files_tcp_keys() const { return tcp_keys_; }
    const std::string& drop_pin() const { return drop_pin_; }

    // Turns the kernel path on and starts reading its records; each becomes
    // engine.on_kernel_decision(). Before that the programs pass everything through.
    void start(Engine& engine);
    // Turns it off (every new flow takes the queue again), reads the last records, stops.
    void stop();

    // Any rule change: every stored decision is stale from now on.
    void invalidate();
    // The DNS cache named `address` anew (null: every address): the decisions stored for it
    // that read its host name go.
    void address_renamed(const IpAddress* address);

    // A decision of the engine: stored in the kernel when the rules allow it (queue path only).
    void on_decision(const DecisionEvent& e, bool nolog) override;

    KernelPathStats stats() const;

  private:
    KernelVerdicts(RuleStore& rules, const DnsCache* names, ProcessModel& processes,
                   const KernelPathOptions& options)
        : rules_(rules), names_(names), options_(options), processes_(processes) {}
    void write_config(bool enabled);
    void read_loop();
    int on_record(const tsn_decision& r);
    static int ring_callback(void* self, void* data, size_t size);
    uint32_t rule_id_locked(const std::string& name, bool nolog);
    // The executable and user the kernel saw for a queued flow: the owner of its TCP key when
    // tsn_pass files those (it notes nothing else for TCP then), else tsn_flow_exes' note.
    std::optional<tsn_flow_exe> identity_of(const tsn_flow_key& key, Protocol protocol) const;

    RuleStore& rules_;
    const DnsCache* names_;
    KernelPathOptions options_;
    tsnitch_verdict* skel_ = nullptr;
    ring_buffer* ring_ = nullptr;
    UniqueFd cgroup_;
    uint64_t netns_ = 0;
    uint32_t wake_bytes_ = 0;  // tsn_kconfig.wake_bytes
    bool tcp_keys_ = false;    // tsn_kconfig.tcp_keys
    std::string pin_dir_;
    bool own_mount_ = false;  // pin_dir_ is a bpffs mounted for this instance
    std::string pass_pin_, drop_pin_;

    std::atomic<uint32_t> epoch_{1};
    std::atomic<bool> enabled_{false};
    Engine* engine_ = nullptr;
    std::thread reader_;
    UniqueFd stop_fd_;

    mutable std::mutex mu_;  // everything below
    struct RuleInfo {
        std::string name;
        bool nolog = false;
    };
    std::map<std::string, uint32_t> rule_ids_;
    std::unordered_map<uint32_t, RuleInfo> rules_by_id_;
    std::map<std::tuple<uint64_t, uint32_t, uint32_t, uint64_t>, std::string> exe_paths_;
    // Decisions that read the host name of their destination, by address (dns_cache_key).
    std::unordered_map<IpAddress, std::vector<tsn_verdict_key>> host_keys_;
    size_t host_key_count_ = 0;
    ProcessModel& processes_;
    // What the model said of each process in the batch being read (the reader thread's own): a
    // busy process has many records in one batch, and it is asked once for them.
    std::unordered_map<uint32_t, ProcessRef> batch_processes_;
    KernelPathStats stats_;
};

// Whether this kernel offers the kernel path: the object loads (`tsnitch check`). The error says
// why not.
Status probe_kernel_path();

}  // namespace tsnitch::bpf
