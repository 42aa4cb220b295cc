// The eBPF attribution module in user space: loads tsnitch.bpf.c through its skeleton, attaches
// the socket programs to the cgroup v2 root and the exec/fork/exit raw tracepoints, and answers
// lookups in the maps they fill. RAII: the links are owned by this object (and by the process),
// so destroying it — or the process dying — detaches everything.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "bpf/cgroup_root.h"
#include "bpf/image_record.h"
#include "bpf/tsnitch_bpf.h"
#include "core/address.h"
#include "core/attribution/process_model.h"
#include "core/connection.h"
#include "core/result.h"

struct tsnitch_bpf;  // the generated skeleton

namespace tsnitch::bpf {

struct SkelDeleter {
    void operator()(tsnitch_bpf* s) const;
};
using SkelPtr = std::unique_ptr<tsnitch_bpf, SkelDeleter>;

struct BpfOptions {
    // Pretend loading failed, to exercise the fallback to diag. The environment variable
    // TSNITCH_BPF_FORCE_FAIL=1 does the same.
    bool force_fail = false;
    bool seed = true;  // store the sockets that exist already (sock_diag + the /proc index)
    // The firewall's own sends (a verdict per queued packet, its event lines) are not looked at
    // by raw_tp/sys_enter: its connected UDP and ICMP sends are then found by their cookie only.
    bool ignore_own_sends = false;
};

// What seeding found. An empty machine (no sockets) is a normal result, and a failure here
// (no sock_diag) never fails enabling the module: those sockets are then found by the lower rungs.
struct SeedResult {
    size_t sockets = 0;    // TCP/UDP sockets in the dump
    size_t stored = 0;     // ... whose process was found and stored
    size_t processes = 0;  // running processes whose image was stored
    std::string error;     // why seeding did not run, empty when it did
};

// Who used a socket, as the BPF programs recorded it.
struct SocketOwner {
    uint64_t cookie = 0;
    uint32_t tgid = 0;  // the process id
    uint32_t pid = 0;   // the thread id
    uint32_t uid = 0;
    uint32_t gid = 0;
    std::string comm;
    uint64_t time_ns = 0;      // CLOCK_BOOTTIME when recorded
    uint64_t released_ns = 0;  // CLOCK_BOOTTIME when the socket was closed, 0 while open
    tsn_exe_id exe{};          // the executable it ran then
    tsn_image_key image{};     // the image it ran then; exec_ns 0 when unknown
};

// A process as the exec/fork/exit tracepoints (or seeding) recorded it.
struct ProcRecord {
    tsn_image_key image{};  // exec_ns 0: unknown
    uint32_t ppid = 0;
    bool forked = false;  // runs its parent's image (no exec since the fork)
    bool exited = false;
};

inline bool same_image(const tsn_image_key& a, const tsn_image_key& b) {
    return a.exec_ns != 0 && a.exec_ns == b.exec_ns && a.tgid == b.tgid;
}

// A socket that existed before the module was loaded (from sock_diag + the /proc index).
struct SeedSocket {
    Protocol protocol = Protocol::tcp;
    IpAddress src;
    uint16_t src_port = 0;
    IpAddress dst;
    uint16_t dst_port = 0;
    uint64_t cookie = 0;
    uint32_t pid = 0;  // 0: owner unknown (not stored)
    uint32_t uid = 0;
    std::string comm;
};

SocketOwner owner_from_map(const tsn_owner& o);
ProcRecord proc_from_map(const tsn_proc& p);

class BpfMonitor {
  public:
    // Loads and attaches every program. Fails only when loading or attaching fails; the error
    // says which program and why, and the caller falls back to diag.
    // Seeding asks `processes` (its sock_diag and inode index); its proc root is the root whose
    // paths are host paths. `processes` must outlive the monitor.
    static Result<std::unique_ptr<BpfMonitor>> create(ProcessModel& processes,
                                                      const BpfOptions& options = {});
    ~BpfMonitor();  // destroying the skeleton destroys the links: detaches all
    BpfMonitor(const BpfMonitor&) = delete;
    BpfMonitor& operator=(const BpfMonitor&) = delete;

    std::optional<SocketOwner> owner_of_flow(const tsn_flow_key& key) const;
    // The owner tsn_recent's slot holds for `key`: memory reads only, no system call; nothing
    // when the slot holds another key (or is being written), so that tsn_flows is asked.
    std::optional<SocketOwner> recent_owner(const tsn_flow_key& key) const;
    std::optional<SocketOwner> owner_of_socket(uint64_t cookie) const;
    std::optional<ProcRecord> proc_of(uint32_t tgid) const;
    std::optional<ImageRecord> image_of(const tsn_image_key& key) const;

    // Stores sockets that were opened before the module was loaded (never overwrites what the
    // programs recorded). Returns how many were stored; an empty list is fine.
    size_t seed(std::span<const SeedSocket> sockets);
    // Dumps the sockets of this network namespace and seeds them with their processes, and
    // records the image (exe, argv) of every running process, so that their children are named.
    SeedResult seed_existing(ProcessModel& processes);
    // The second half alone: returns how many processes were stored.
    size_t seed_processes(const std::string& proc_root = "/proc");
    const SeedResult& seeded() const { return seeded_; }  // the seeding done by create()

    // Drops flows whose socket was closed more than `grace` ago. Returns how many.
    size_t sweep(std::chrono::nanoseconds grace);

    uint64_t netns_cookie() const { return netns_cookie_; }  // of the namespace we run in

    // The maps that hold TCP flow keys (tsn_flows) and the sockets' owners (tsn_socks), for the
    // kernel path's xt_bpf program to share: it files there the key of each SYN that takes the
    // queue (KernelVerdicts).
    int flows_map_fd() const;
    int socks_map_fd() const;
    int recent_map_fd() const;  // tsn_recent, where the kernel path's program files them too
    int procs_map_fd() const;   // tsn_procs: each process's executable identity, from exec
    // Detaches the sockops program, which files the TCP keys otherwise; once the kernel path's
    // rules run its program on every SYN. The other programs stay.
    void detach_sockops();
    const std::string& cgroup_root() const { return cgroup_->where(); }

  private:
    BpfMonitor() = default;

    std::optional<CgroupRoot> cgroup_;  // declared before skel_: the links go first
    SkelPtr skel_;
    uint64_t netns_cookie_ = 0;
    SeedResult seeded_;
    const tsn_recent* recent_ = nullptr;  // tsn_recent, mapped read-only; null if it could not be
};

// One hook as `tsnitch check` reports it.
struct HookStatus {
    std::string name;  // "cgroup/connect4", "raw_tp/sched_process_exec", ...
    bool available = false;
    std::string reason;  // why not, when not
};

// Loads and attaches each program on its own (and detaches it at once) to tell which hooks
// this kernel offers.
std::vector<HookStatus> probe_hooks(const CgroupRoot& root);

// CLOCK_BOOTTIME in ns, the clock of bpf_ktime_get_boot_ns().
uint64_t boot_time_ns();

// A user-space dev_t (stat's st_dev) in the kernel's internal form, major << 20 | minor.
uint32_t kernel_dev(uint64_t st_dev);

}  // namespace tsnitch::bpf
