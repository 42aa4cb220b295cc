#include "bpf/bpf_monitor.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <mutex>

#include "bpf/cgroup_root.h"
#include "bpf/flow_key.h"
#include "core/attribution/proc_io.h"
#include "core/attribution/proc_parse.h"
#include "tsnitch.skel.h"

namespace tsnitch::bpf {

namespace {

// libbpf reports details (verifier messages, missing attach points) through its print
// callback. Keep the verifier's last words (the line before "-- END PROG LOAD LOG --") or else
// the last warning, so that the error we return can name the cause. TSNITCH_BPF_DEBUG=1 also
// prints everything libbpf says on standard error.
std::mutex g_log_mutex;
std::string g_last_warning;
std::string g_verifier_line;
std::string g_reason_line;  // the last verifier line that is not its "processed N insns" summary

int capture_libbpf_print(libbpf_print_level level, const char* fmt, va_list args) {
    static const bool debug = std::getenv("TSNITCH_BPF_DEBUG") != nullptr;
    if (level == LIBBPF_DEBUG && !debug) return 0;
    // Sized to fit: a verifier log arrives as one message, and its end names the cause.
    va_list again;
    va_copy(again, args);
    const int need = std::vsnprintf(nullptr, 0, fmt, again);
    va_end(again);
    std::string text(need > 0 ? static_cast<size_t>(need) + 1 : 1, '\0');
    const int n = std::vsnprintf(text.data(), text.size(), fmt, args);
    text.resize(n < 0 ? 0 : std::min<size_t>(static_cast<size_t>(n), text.size() - 1));
    if (debug) std::fputs(text.c_str(), stderr);
    std::lock_guard lock(g_log_mutex);
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos) end = text.size();
        std::string line = text.substr(pos, end - pos);
        pos = end + 1;
        while (!line.empty() && line.back() == ' ')
            line.pop_back();
        if (line.empty()) continue;
        if (line.find("-- END PROG LOAD LOG --") != std::string::npos) {
            g_verifier_line = g_reason_line;
        } else if (level != LIBBPF_DEBUG) {
            g_last_warning = line;
        }
        if (line.rfind("processed ", 0) != 0) g_reason_line = line;
    }
    return 0;
}

struct LogCapture {
    libbpf_print_fn_t previous;
    LogCapture() : previous(libbpf_set_print(capture_libbpf_print)) {
        std::lock_guard lock(g_log_mutex);
        g_last_warning.clear();
        g_verifier_line.clear();
    }
    ~LogCapture() { libbpf_set_print(previous); }
    std::string last() const {
        std::lock_guard lock(g_log_mutex);
        return g_verifier_line.empty() ? g_last_warning : "verifier: " + g_verifier_line;
    }
};

std::string describe(int err, const LogCapture& log) {
    std::string s = std::strerror(err < 0 ? -err : err);
    if (std::string w = log.last(); !w.empty()) s += " (" + w + ")";
    return s;
}

bool force_fail_requested(const BpfOptions& o) {
    if (o.force_fail) return true;
    const char* env = std::getenv("TSNITCH_BPF_FORCE_FAIL");
    return env != nullptr && env[0] != '\0' && std::strcmp(env, "0") != 0;
}

// The programs and where each attaches: cgroup programs to the v2 root, the rest by name.
struct Program {
    const char* title;
    bpf_program* prog;
    bpf_link** link;
    bool cgroup;
};

std::vector<Program> programs_of(tsnitch_bpf* s) {
    return {
        {"cgroup/sock_create", s->progs.tsnitch_sock_create, &s->links.tsnitch_sock_create, true},
        {"cgroup/connect4", s->progs.tsnitch_connect4, &s->links.tsnitch_connect4, true},
        {"cgroup/connect6", s->progs.tsnitch_connect6, &s->links.tsnitch_connect6, true},
        {"cgroup/sendmsg4", s->progs.tsnitch_sendmsg4, &s->links.tsnitch_sendmsg4, true},
        {"cgroup/sendmsg6", s->progs.tsnitch_sendmsg6, &s->links.tsnitch_sendmsg6, true},
        {"sockops", s->progs.tsnitch_sockops, &s->links.tsnitch_sockops, true},
        {"cgroup/sock_release", s->progs.tsnitch_sock_release, &s->links.tsnitch_sock_release,
         true},
        {"raw_tp/sched_process_exec", s->progs.tsnitch_exec, &s->links.tsnitch_exec, false},
        {"raw_tp/sched_process_fork", s->progs.tsnitch_fork, &s->links.tsnitch_fork, false},
        {"raw_tp/sched_process_exit", s->progs.tsnitch_exit, &s->links.tsnitch_exit, false},
        {"raw_tp/sys_enter", s->progs.tsnitch_sys_enter, &s->links.tsnitch_sys_enter, false},
    };
}

// Attaches one program; on failure returns the reason.
std::optional<std::string> attach(const Program& p, int cgroup_fd, const LogCapture& log) {
    bpf_link* link =
        p.cgroup ? bpf_program__attach_cgroup(p.prog, cgroup_fd) : bpf_program__attach(p.prog);
    if (link == nullptr) return describe(errno, log);
    *p.link = link;
    return std::nullopt;
}

std::string comm_of(const char (&c)[TSN_COMM_LEN]) {
    return std::string(c, strnlen(c, sizeof(c)));
}

// The (dev, inode) of `path` in the kernel's form; nullopt when it cannot be stat'ed.
std::optional<std::pair<uint32_t, uint64_t>> kernel_inode(const std::string& path) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) return std::nullopt;
    return std::pair{kernel_dev(st.st_dev), static_cast<uint64_t>(st.st_ino)};
}

}  // namespace

void SkelDeleter::operator()(tsnitch_bpf* s) const {
    tsnitch_bpf__destroy(s);
}

uint32_t kernel_dev(uint64_t st_dev) {
    return (static_cast<uint32_t>(major(st_dev)) << 20) | static_cast<uint32_t>(minor(st_dev));
}

uint64_t boot_time_ns() {
    timespec ts{};
    clock_gettime(CLOCK_BOOTTIME, &ts);
    return static_cast<uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// tsn_recent's size: TSN_RECENT_SLOTS slots of a size that is a multiple of 8 (the array's
// element size), which makes whole pages.
constexpr size_t kRecentBytes = TSN_RECENT_SLOTS * sizeof(tsn_recent);
static_assert(sizeof(tsn_recent) % 8 == 0 && kRecentBytes % 4096 == 0);

SocketOwner owner_from_map(const tsn_owner& o) {
    SocketOwner s;
    s.cookie = o.cookie;
    s.tgid = o.tgid;
    s.pid = o.pid;
    s.uid = o.uid;
    s.gid = o.gid;
    s.comm = comm_of(o.comm);
    s.time_ns = o.time_ns;
    s.released_ns = o.released_ns;
    s.exe = o.exe;
    s.image = o.image;
    return s;
}

ProcRecord proc_from_map(const tsn_proc& p) {
    ProcRecord r;
    r.image = p.image;
    r.ppid = p.ppid;
    r.forked = p.forked != 0;
    r.exited = p.exit_ns != 0;
    return r;
}

Result<std::unique_ptr<BpfMonitor>> BpfMonitor::create(ProcessModel& processes,
                                                       const BpfOptions& options) {
    if (force_fail_requested(options)) {
        return make_error("eBPF disabled on request (TSNITCH_BPF_FORCE_FAIL)");
    }
    std::unique_ptr<BpfMonitor> m(new BpfMonitor());
    auto netns = current_netns_cookie();
    if (!netns) return netns.error();
    m->netns_cookie_ = *netns;

    LogCapture log;
    m->skel_.reset(tsnitch_bpf__open());
    if (!m->skel_) {
        return make_error("opening the eBPF object: " + describe(errno, log), errno);
    }
    // Only this namespace's sockets; paths are host paths when they end at our root.
    m->skel_->rodata->tsn_netns_cookie = m->netns_cookie_;
    if (options.ignore_own_sends)
        m->skel_->rodata->tsn_self_tgid = static_cast<uint32_t>(::getpid());
    if (auto root = kernel_inode(processes.proc_root() + "/self/root/")) {
        m->skel_->rodata->tsn_root_dev = root->first;
    }
    if (int err = tsnitch_bpf__load(m->skel_.get()); err != 0) {
        return make_error("loading the eBPF programs: " + describe(err, log), -err);
    }
    auto root = CgroupRoot::open(processes.proc_root());
    if (!root) return root.error();
    m->cgroup_.emplace(std::move(*root));
    for (const Program& p : programs_of(m->skel_.get())) {
        if (auto why = attach(p, m->cgroup_->fd(), log)) {
            return make_error(std::string("attaching ") + p.title + ": " + *why, errno);
        }
    }
    // Without the mapping, readers ask tsn_flows only.
    void* recent = ::mmap(nullptr, kRecentBytes, PROT_READ, MAP_SHARED,
                          bpf_map__fd(m->skel_->maps.tsn_recent), 0);
    if (recent != MAP_FAILED) m->recent_ = static_cast<const tsn_recent*>(recent);
    // Seeding after attaching: a socket opened in between is then seen by the programs.
    if (options.seed) m->seeded_ = m->seed_existing(processes);
    return m;
}

BpfMonitor::~BpfMonitor() {
    if (recent_ != nullptr) ::munmap(const_cast<tsn_recent*>(recent_), kRecentBytes);
}

int BpfMonitor::flows_map_fd() const {
    return bpf_map__fd(skel_->maps.tsn_flows);
}

int BpfMonitor::socks_map_fd() const {
    return bpf_map__fd(skel_->maps.tsn_socks);
}

int BpfMonitor::recent_map_fd() const {
    return bpf_map__fd(skel_->maps.tsn_recent);
}

int BpfMonitor::procs_map_fd() const {
    return bpf_map__fd(skel_->maps.tsn_procs);
}

void BpfMonitor::detach_sockops() {
    if (skel_->links.tsnitch_sockops == nullptr) return;
    bpf_link__destroy(skel_->links.tsnitch_sockops);
    skel_->links.tsnitch_sockops = nullptr;  // the skeleton's destroy skips it
}

std::optional<SocketOwner> BpfMonitor::owner_of_flow(const tsn_flow_key& key) const {
    tsn_owner o{};
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.tsn_flows), &key, &o) != 0) {
        return std::nullopt;
    }
    return owner_from_map(o);
}

std::optional<SocketOwner> BpfMonitor::recent_owner(const tsn_flow_key& key) const {
    if (recent_ == nullptr) return std::nullopt;
    const tsn_recent& slot = recent_[tsn_recent_slot(&key)];
    // A sequence lock: the programs make seq odd, write, and make it even again (atomically, so
    // with full barriers); a copy taken while seq stayed even is whole.
    const uint32_t before = __atomic_load_n(&slot.seq, __ATOMIC_ACQUIRE);
    if (before == 0 || (before & 1) != 0) return std::nullopt;
    tsn_recent copy;
    std::memcpy(&copy, &slot, sizeof copy);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    if (__atomic_load_n(&slot.seq, __ATOMIC_RELAXED) != before) return std::nullopt;
    if (std::memcmp(&copy.key, &key, sizeof key) != 0) return std::nullopt;
    return owner_from_map(copy.owner);
}

std::optional<SocketOwner> BpfMonitor::owner_of_socket(uint64_t cookie) const {
    tsn_sock s{};
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.tsn_socks), &cookie, &s) != 0) {
        return std::nullopt;
    }
    return owner_from_map(s.owner);
}

std::optional<ProcRecord> BpfMonitor::proc_of(uint32_t tgid) const {
    tsn_proc p{};
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.tsn_procs), &tgid, &p) != 0) {
        return std::nullopt;
    }
    return proc_from_map(p);
}

std::optional<ImageRecord> BpfMonitor::image_of(const tsn_image_key& key) const {
    if (key.exec_ns == 0) return std::nullopt;
    tsn_image_key k = key;
    k.pad = 0;
    tsn_image image{};
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.tsn_images), &k, &image) != 0) {
        return std::nullopt;
    }
    return image_from_map(image);
}

size_t BpfMonitor::seed_processes(const std::string& proc_root) {
    auto pids = list_pids(proc_root);
    if (!pids) return 0;
    const int procs = bpf_map__fd(skel_->maps.tsn_procs);
    const int images = bpf_map__fd(skel_->maps.tsn_images);
    const long ticks = sysconf(_SC_CLK_TCK);
    const uint64_t ns_per_tick = 1000000000ull / static_cast<uint64_t>(ticks > 0 ? ticks : 100);
    const auto own_root = kernel_inode(proc_root + "/self/root/");
    auto image = std::make_unique<tsn_image>();  // 1.5 KiB: not on the stack
    size_t stored = 0;
    for (int pid : *pids) {
        const std::string dir = proc_root + "/" + std::to_string(pid);
        auto stat_text = read_text_file(dir + "/stat", 4096);
        if (!stat_text) continue;
        auto st = parse_proc_stat(*stat_text);
        if (!st || st->pid != pid) continue;
        auto exe = read_link(dir + "/exe");
        if (!exe) continue;  // kernel threads, zombies, or gone meanwhile
        *image = tsn_image{};
        // A stand-in for the exec time: unique per process and never 0.
        image->exec_ns = st->start_time * ns_per_tick + 1;
        image->tgid = static_cast<uint32_t>(pid);
        image->ppid = static_cast<uint32_t>(st->ppid);
        if (auto id = kernel_inode(dir + "/exe")) {
            image->exe.dev = id->first;
            image->exe.ino = id->second;
        }
        const auto root = kernel_inode(dir + "/root/");
        set_image_path(*image, *exe, root && own_root && *root == *own_root);
        if (auto cmdline = read_text_file(dir + "/cmdline", TSN_ARGS_MAX + 1)) {
            set_image_args(*image, *cmdline);
        }
        tsn_proc proc{};
        proc.image.exec_ns = image->exec_ns;
        proc.image.tgid = image->tgid;
        proc.ppid = image->ppid;
        // BPF_NOEXIST: an exec seen by the programs since loading is fresher than /proc.
        if (bpf_map_update_elem(procs, &pid, &proc, BPF_NOEXIST) != 0) continue;
        bpf_map_update_elem(images, &proc.image, image.get(), BPF_NOEXIST);
        ++stored;
    }
    return stored;
}

size_t BpfMonitor::seed(std::span<const SeedSocket> sockets) {
    const int flows = bpf_map__fd(skel_->maps.tsn_flows);
    const int socks = bpf_map__fd(skel_->maps.tsn_socks);
    const uint64_t now = boot_time_ns();
    size_t stored = 0;
    for (const SeedSocket& s : sockets) {
        if (s.pid == 0) continue;
        tsn_sock v{};
        v.owner.cookie = s.cookie;
        v.owner.time_ns = now;
        v.owner.tgid = s.pid;
        v.owner.pid = s.pid;
        v.owner.uid = s.uid;
        if (tsn_proc p{};
            bpf_map_lookup_elem(bpf_map__fd(skel_->maps.tsn_procs), &s.pid, &p) == 0) {
            v.owner.image = p.image;  // seeded just before
        }
        std::strncpy(v.owner.comm, s.comm.c_str(), sizeof(v.owner.comm) - 1);
        v.netns = netns_cookie_;
        v.protocol = static_cast<uint8_t>(s.protocol);
        // Listening and unconnected sockets have no flow yet; their cookie entry still helps.
        v.key = make_flow_key(netns_cookie_, s.protocol, s.src, s.src_port, s.dst, s.dst_port);
        v.has_key = s.dst_port != 0;
        // BPF_NOEXIST: what the programs saw since loading is fresher than a dump.
        bool any = false;
        if (s.cookie != 0 && bpf_map_update_elem(socks, &s.cookie, &v, BPF_NOEXIST) == 0) {
            any = true;
        }
        if (v.has_key && bpf_map_update_elem(flows, &v.key, &v.owner, BPF_NOEXIST) == 0) {
            any = true;
        }
        if (any) ++stored;
    }
    return stored;
}

SeedResult BpfMonitor::seed_existing(ProcessModel& processes) {
    SeedResult r;
    r.processes = seed_processes(processes.proc_root());
    if (!processes.has_diag()) {
        r.error = processes.diag_error();
        return r;
    }
    auto snapshot = processes.sockets_dump(false);
    if (!snapshot) {
        r.error = "dumping sockets: " + snapshot.error().message;
        return r;
    }
    std::vector<SeedSocket> seeds;
    for (const InetSocket& s : snapshot->inet) {
        ++r.sockets;
        if (s.inode == 0) continue;  // time_wait and orphans: no process holds them
        auto owner = processes.owner_of(s.inode, s.uid);
        if (!owner) continue;
        SeedSocket seed{s.protocol,
                        s.src,
                        s.src_port,
                        s.dst,
                        s.dst_port,
                        s.cookie,
                        static_cast<uint32_t>(owner->pid),
                        s.uid,
                        {}};
        if (auto p = processes.process(owner->pid)) seed.comm = (*p)->comm;
        seeds.push_back(std::move(seed));
    }
    r.stored = seed(seeds);
    return r;
}

size_t BpfMonitor::sweep(std::chrono::nanoseconds grace) {
    const int fd = bpf_map__fd(skel_->maps.tsn_flows);
    const uint64_t now = boot_time_ns();
    const uint64_t limit = static_cast<uint64_t>(grace.count());
    std::vector<tsn_flow_key> stale;
    tsn_flow_key key{}, next{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        tsn_owner o{};
        if (bpf_map_lookup_elem(fd, &next, &o) == 0 && o.released_ns != 0 && now > o.released_ns &&
            now - o.released_ns > limit) {
            stale.push_back(next);
        }
        key = next;
        prev = &key;
    }
    size_t removed = 0;
    for (const tsn_flow_key& k : stale) {
        if (bpf_map_delete_elem(fd, &k) == 0) ++removed;
    }
    return removed;
}

std::vector<HookStatus> probe_hooks(const CgroupRoot& root) {
    std::vector<HookStatus> out;
    LogCapture log;
    // Titles first, from a skeleton that is only opened.
    std::vector<std::string> titles;
    {
        SkelPtr s(tsnitch_bpf__open());
        if (!s) {
            out.push_back({"eBPF object", false, describe(errno, log)});
            return out;
        }
        for (const Program& p : programs_of(s.get()))
            titles.emplace_back(p.title);
    }
    for (size_t i = 0; i < titles.size(); ++i) {
        HookStatus st{titles[i], false, {}};
        SkelPtr s(tsnitch_bpf__open());
        if (!s) {
            st.reason = "opening the eBPF object: " + describe(errno, log);
            out.push_back(st);
            continue;
        }
        const auto progs = programs_of(s.get());
        for (size_t j = 0; j < progs.size(); ++j)
            bpf_program__set_autoload(progs[j].prog, j == i);
        if (int err = tsnitch_bpf__load(s.get()); err != 0) {
            st.reason = "load: " + describe(err, log);
        } else if (auto why = attach(progs[i], root.fd(), log)) {
            st.reason = "attach: " + *why;
        } else {
            st.available = true;
        }
        out.push_back(st);  // the skeleton's destruction detaches it again
    }
    return out;
}

}  // namespace tsnitch::bpf
