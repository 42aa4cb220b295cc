#include "bpf/kernel_verdicts.h"
#include "core/text.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "bpf/bpf_monitor.h"
#include "bpf/cgroup_root.h"
#include "bpf/flow_key.h"
#include "core/fs.h"
#include "verdict.skel.h"

namespace tsnitch::bpf {

namespace {

constexpr uint8_t kAfInet = 2;

const char* env(const char* name) {
    const char* v = std::getenv(name);
    return v != nullptr && v[0] != '\0' ? v : nullptr;
}

uint8_t kernel_action(Action a) {
    switch (a) {
        case Action::allow:
            return TSN_ACT_ALLOW;
        case Action::deny:
            return TSN_ACT_DENY;
        case Action::reject:
            return TSN_ACT_REJECT;
    }
    return TSN_ACT_DENY;
}

Action action_of(uint8_t a) {
    return a == TSN_ACT_ALLOW ? Action::allow
                              : (a == TSN_ACT_REJECT ? Action::reject : Action::deny);
}

IpAddress address_of(uint8_t family, const uint8_t (&b)[16]) {
    if (family == kAfInet) return IpAddress::v4_bytes(std::span<const uint8_t, 4>(b, 4));
    return IpAddress::v6_bytes(std::span<const uint8_t, 16>(b, 16));
}

std::tuple<uint64_t, uint32_t, uint32_t, uint64_t> exe_key(const tsn_exe_id& e) {
    return {e.ino, e.dev, e.generation, e.path};
}

bool is_bpffs(const std::string& path) {
    struct statfs st {};
    return ::statfs(path.c_str(), &st) == 0 && st.f_type == BPF_FS_MAGIC;
}

bool is_directory(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

// "PREFIX<netns>-<pid>" -> pid, or 0 when the name is not one of ours.
pid_t pid_of_pin_dir(std::string_view name, std::string_view prefix) {
    if (!name.starts_with(prefix)) return 0;
    name.remove_prefix(prefix.size());
    const size_t dash = name.find('-');
    if (dash == 0 || dash == std::string_view::npos || dash + 1 == name.size()) return 0;
    for (size_t i = 0; i < name.size(); ++i) {
        if (i != dash && (name[i] < '0' || name[i] > '9')) return 0;
    }
    return static_cast<pid_t>(std::strtol(std::string(name.substr(dash + 1)).c_str(), nullptr, 10));
}

void remove_pin_dir(const std::string& dir, bool mounted) {
    for (const char* pin : {"pass", "drop"})
        ::unlink((dir + "/" + pin).c_str());
    if (mounted) ::umount2(dir.c_str(), MNT_DETACH);
    ::rmdir(dir.c_str());
}

// Pin directories of instances that died without removing theirs.
void remove_stale_pin_dirs(const std::string& base, std::string_view prefix, bool mounted) {
    DIR* d = ::opendir(base.c_str());
    if (d == nullptr) return;
    std::vector<std::string> stale;
    while (dirent* e = ::readdir(d)) {
        const pid_t pid = pid_of_pin_dir(e->d_name, prefix);
        if (pid > 0 && ::kill(pid, 0) != 0 && errno == ESRCH)
            stale.push_back(base + "/" + e->d_name);
    }
    ::closedir(d);
    for (const std::string& dir : stale)
        remove_pin_dir(dir, mounted);
}

struct Attachment {
    bpf_program* prog;
    bpf_link** link;
    const char* title;
};

// Without an attribution module to share them with, its maps in this object stay unused: one
// entry each instead of the preallocated thousands.
void shrink_attribution_maps(tsnitch_verdict* s) {
    bpf_map__set_max_entries(s->maps.tsn_flows, 1);
    bpf_map__set_max_entries(s->maps.tsn_socks, 1);
    bpf_map__set_max_entries(s->maps.tsn_recent, 1);
    bpf_map__set_max_entries(s->maps.tsn_procs, 1);
}

}  // namespace

Result<KernelPathOptions> kernel_path_options_from_env(KernelPathOptions o) {
    // A numeric knob, when set: a mistyped one is named, not read as 0.
    const auto number = [](const char* name, uint32_t min,
                           uint32_t max = UINT32_MAX) -> Result<std::optional<uint32_t>> {
        const char* v = env(name);
        if (!v) return std::optional<uint32_t>();
        uint32_t n = 0;
        const char* end = v + std::strlen(v);
        const auto [ptr, ec] = std::from_chars(v, end, n);
        if (ec != std::errc() || ptr != end || *v == '\0' || n < min || n > max)
            return make_error(
                std::string(name) + " '" + v + "': expected a whole number" +
                (min > 0 ? " of at least " + std::to_string(min) : std::string()) +
                (max < UINT32_MAX ? " and at most " + std::to_string(max) : std::string()));
        return std::optional(n);
    };
    // A ring is kernel memory held for the whole run; libbpf rounds it up to a power of two,
    // which beyond 2 GiB no longer fits the map's 32-bit size.
    auto ring = number("TSNITCH_KPATH_RING_BYTES", 1, 1u << 30);
    auto read_ms = number("TSNITCH_KPATH_READ_MS", 1);
    auto wake = number("TSNITCH_KPATH_WAKE_BYTES", 0);
    for (const auto* r : {&ring, &read_ms, &wake})
        if (!*r) return r->error();
    if (*ring) o.ring_bytes = **ring;
    if (*read_ms) o.read_interval = std::chrono::milliseconds(**read_ms);
    if (*wake) o.wake_bytes = *wake;
    if (const char* v = env("TSNITCH_KPATH_CGROUP")) o.cgroup = v;
    if (const char* v = env("TSNITCH_KPATH_DISABLE")) o.disable = std::strcmp(v, "0") != 0;
    return o;
}

tsn_verdict_key make_verdict_key(const tsn_exe_id& exe, uint32_t uid, Protocol protocol,
                                 const IpAddress& dst, uint16_t dport) {
    // The destination exactly as make_flow_key writes it (v4-mapped becomes IPv4).
    const tsn_flow_key fk = make_flow_key(0, protocol, IpAddress::any(dst.family()), 0, dst, dport);
    tsn_verdict_key k{};
    k.exe = exe;
    k.uid = uid;
    k.protocol = fk.protocol;
    k.family = fk.family;
    k.dport = fk.dport;
    std::memcpy(k.daddr, fk.daddr, sizeof(k.daddr));
    return k;
}

DecisionEvent event_of_record(const tsn_decision& r, uint64_t boot_now_ns,
                              std::chrono::system_clock::time_point now) {
    DecisionEvent e;
    const uint64_t age = boot_now_ns > r.time_ns ? boot_now_ns - r.time_ns : 0;
    e.time = now - std::chrono::duration_cast<std::chrono::system_clock::duration>(
                       std::chrono::nanoseconds(age));
    e.action = action_of(r.action);
    e.reason = Reason::rule;
    e.method = Method::ebpf;
    e.path = DecisionPath::kernel;
    Connection& c = e.connection;
    c.protocol = r.protocol == static_cast<uint8_t>(Protocol::udp) ? Protocol::udp : Protocol::tcp;
    c.src = address_of(r.family, r.saddr);
    c.src_port = r.sport;
    c.dst = address_of(r.family, r.daddr);
    c.dst_port = r.dport;
    c.uid = r.uid;
    ProcessInfo p;
    p.pid = static_cast<int>(r.tgid);
    p.uid = r.uid;
    p.comm = std::string(r.comm, strnlen(r.comm, sizeof(r.comm)));
    c.process = std::make_shared<const ProcessInfo>(std::move(p));
    return e;
}

Result<std::unique_ptr<KernelVerdicts>> KernelVerdicts::create(RuleStore& rules,
                                                               const DnsCache* names,
                                                               ProcessModel& processes,
                                                               const KernelPathOptions& options) {
    if (options.disable) return make_error("the kernel path is disabled (TSNITCH_KPATH_DISABLE)");
    std::unique_ptr<KernelVerdicts> k(new KernelVerdicts(rules, names, processes, options));
    auto netns = current_netns_cookie();
    if (!netns) return netns.error();
    k->netns_ = *netns;

    k->skel_ = tsnitch_verdict__open();
    if (k->skel_ == nullptr)
        return make_error("opening the kernel path's eBPF object: " + errno_text(errno), errno);
    if (options.ring_bytes != 0 &&
        bpf_map__set_max_entries(k->skel_->maps.tsn_decisions, options.ring_bytes) != 0)
        return make_error("TSNITCH_KPATH_RING_BYTES " + std::to_string(options.ring_bytes) +
                          ": not a usable ring buffer size");
    if (options.flows_map_fd >= 0 && options.socks_map_fd >= 0 && options.recent_map_fd >= 0 &&
        options.procs_map_fd >= 0) {
        if (int err = bpf_map__reuse_fd(k->skel_->maps.tsn_flows, options.flows_map_fd); err != 0)
            return make_error("sharing the attribution's flow map: " + errno_text(err), -err);
        if (int err = bpf_map__reuse_fd(k->skel_->maps.tsn_socks, options.socks_map_fd); err != 0)
            return make_error("sharing the attribution's socket map: " + errno_text(err), -err);
        if (int err = bpf_map__reuse_fd(k->skel_->maps.tsn_recent, options.recent_map_fd); err != 0)
            return make_error("sharing the attribution's recent-owner map: " + errno_text(err),
                              -err);
        if (int err = bpf_map__reuse_fd(k->skel_->maps.tsn_procs, options.procs_map_fd); err != 0)
            return make_error("sharing the attribution's process map: " + errno_text(err), -err);
        k->tcp_keys_ = true;
    } else {
        shrink_attribution_maps(k->skel_);
    }
    if (int err = tsnitch_verdict__load(k->skel_); err != 0)
        return make_error("loading the kernel path's eBPF programs: " + errno_text(err), -err);
    k->wake_bytes_ =
        options.wake_bytes.value_or(bpf_map__max_entries(k->skel_->maps.tsn_decisions) / 4);

    auto root = CgroupRoot::open(processes.proc_root());
    if (!root) return root.error();
    if (options.cgroup.empty()) {
        k->cgroup_ = UniqueFd(::fcntl(root->fd(), F_DUPFD_CLOEXEC, 0));
    } else {
        // Relative to the v2 root, which `ip netns exec` may hide from this mount namespace.
        const std::string rel = options.cgroup.substr(options.cgroup.find_first_not_of('/'));
        k->cgroup_ =
            UniqueFd(::openat(root->fd(), rel.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    }
    if (!k->cgroup_) {
        return make_error(
            "opening the cgroup for the kernel path " + options.cgroup + ": " + errno_text(errno),
            errno);
    }
    tsnitch_verdict* s = k->skel_;
    const Attachment hooks[] = {
        {s->progs.tsn_verdict_connect4, &s->links.tsn_verdict_connect4, "cgroup/connect4"},
        {s->progs.tsn_verdict_connect6, &s->links.tsn_verdict_connect6, "cgroup/connect6"},
        {s->progs.tsn_verdict_sendmsg4, &s->links.tsn_verdict_sendmsg4, "cgroup/sendmsg4"},
        {s->progs.tsn_verdict_sendmsg6, &s->links.tsn_verdict_sendmsg6, "cgroup/sendmsg6"},
    };
    for (const Attachment& a : hooks) {
        bpf_link* link = bpf_program__attach_cgroup(a.prog, k->cgroup_.get());
        if (link == nullptr)
            return make_error(
                std::string("attaching the kernel path's ") + a.title + ": " + errno_text(errno),
                errno);
        *a.link = link;
    }

    // The pins: in /sys/fs/bpf when it is a bpf file system, else in a bpf file system mounted
    // for this instance (`ip netns exec` and many machines have none at /sys/fs/bpf).
    const std::string id = std::to_string(k->netns_) + "-" + std::to_string(::getpid());
    if (is_bpffs("/sys/fs/bpf")) {
        remove_stale_pin_dirs("/sys/fs/bpf", "tsnitch-", false);
        k->pin_dir_ = "/sys/fs/bpf/tsnitch-" + id;
        if (::mkdir(k->pin_dir_.c_str(), 0700) != 0 && errno != EEXIST)
            return make_error("creating " + k->pin_dir_ + ": " + errno_text(errno), errno);
    } else {
        const std::string base = is_directory("/run") ? "/run" : "/tmp";
        remove_stale_pin_dirs(base, "tsnitch-bpf-", true);
        k->pin_dir_ = base + "/tsnitch-bpf-" + id;
        if (::mkdir(k->pin_dir_.c_str(), 0700) != 0 && errno != EEXIST)
            return make_error("creating " + k->pin_dir_ + ": " + errno_text(errno), errno);
        if (::mount("bpf", k->pin_dir_.c_str(), "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                    "mode=0700") != 0) {
            const int e = errno;
            ::rmdir(k->pin_dir_.c_str());
            k->pin_dir_.clear();
            return make_error(
                "mounting a bpf file system for the kernel path's pins: " + errno_text(e), e);
        }
        k->own_mount_ = true;
    }
    k->pass_pin_ = k->pin_dir_ + "/pass";
    k->drop_pin_ = k->pin_dir_ + "/drop";
    for (auto [prog, path] : {std::pair{s->progs.tsn_pass, &k->pass_pin_},
                              std::pair{s->progs.tsn_drop, &k->drop_pin_}}) {
        ::unlink(path->c_str());  // a leftover of a crashed instance with our pid
        if (int err = bpf_program__pin(prog, path->c_str()); err != 0)
            return make_error("pinning " + *path + ": " + errno_text(err), -err);
    }

    k->ring_ = ring_buffer__new(bpf_map__fd(s->maps.tsn_decisions), &KernelVerdicts::ring_callback,
                                k.get(), nullptr);
    if (k->ring_ == nullptr)
        return make_error("opening the kernel path's ring buffer: " + errno_text(errno), errno);
    k->write_config(false);
    return k;
}

KernelVerdicts::~KernelVerdicts() {
    stop();
    if (ring_ != nullptr) ring_buffer__free(ring_);
    if (!pin_dir_.empty()) {
        remove_pin_dir(pin_dir_, own_mount_);
        // Again on the way out: a crashed instance's bpf mount goes away with its mount
        // namespace, which the kernel may finish tearing down only after we started.
        const std::string base = pin_dir_.substr(0, pin_dir_.rfind('/'));
        remove_stale_pin_dirs(base, own_mount_ ? "tsnitch-bpf-" : "tsnitch-", own_mount_);
    }
    if (skel_ != nullptr) tsnitch_verdict__destroy(skel_);  // destroys the links: detaches all
}

void KernelVerdicts::write_config(bool enabled) {
    tsn_kconfig c{};
    c.netns = netns_;
    c.epoch = epoch_.load();
    c.enabled = enabled ? 1 : 0;
    c.wake_bytes = wake_bytes_;
    c.tcp_keys = tcp_keys_ ? 1 : 0;
    const uint32_t zero = 0;
    bpf_map_update_elem(bpf_map__fd(skel_->maps.tsn_kconfig), &zero, &c, BPF_ANY);
}

void KernelVerdicts::start(Engine& engine) {
    engine_ = &engine;
    stop_fd_ = UniqueFd(::eventfd(0, EFD_CLOEXEC));
    enabled_ = true;
    write_config(true);
    reader_ = std::thread([this] { read_loop(); });
}

void KernelVerdicts::stop() {
    if (!reader_.joinable()) return;
    enabled_ = false;
    write_config(false);
    const uint64_t one = 1;
    (void)!::write(stop_fd_.get(), &one, sizeof one);
    reader_.join();
}

void KernelVerdicts::invalidate() {
    {
        std::lock_guard lock(mu_);
        stats_.epoch = ++epoch_;
        host_keys_.clear();
        host_key_count_ = 0;
    }
    write_config(enabled_);
    // Stale entries only take room: clear them, so that the map never fills with dead ones.
    const int fd = bpf_map__fd(skel_->maps.tsn_verdicts);
    const uint32_t epoch = epoch_.load();
    std::vector<tsn_verdict_key> stale;
    tsn_verdict_key key{}, next{};
    const void* prev = nullptr;
    while (bpf_map_get_next_key(fd, prev, &next) == 0) {
        tsn_verdict v{};
        if (bpf_map_lookup_elem(fd, &next, &v) == 0 && v.epoch != epoch) stale.push_back(next);
        key = next;
        prev = &key;
    }
    for (const tsn_verdict_key& k : stale)
        bpf_map_delete_elem(fd, &k);
}

uint32_t KernelVerdicts::rule_id_locked(const std::string& name, bool nolog) {
    auto [it, fresh] = rule_ids_.emplace(name, static_cast<uint32_t>(rule_ids_.size() + 1));
    rules_by_id_[it->second] = {name, nolog};
    return it->second;
}

void KernelVerdicts::on_decision(const DecisionEvent& e, bool /*nolog*/) {
    if (!enabled_ || e.path != DecisionPath::queue || e.reason != Reason::rule || !e.rule) return;
    if (!e.connection.process ||
        (e.connection.protocol != Protocol::tcp && e.connection.protocol != Protocol::udp))
        return;
    // The epoch before the analysis: a rule change after it makes this entry stale at once.
    const uint32_t epoch = epoch_.load();
    // Held from the host name's lookup to the store: a rename of the address in between waits in
    // address_renamed() and then removes what was stored here.
    std::lock_guard lock(mu_);
    Connection c = e.connection;
    std::optional<DnsCache::Lookup> named;
    if (names_) {
        named = names_->lookup_entry(c.dst);
        c.dst_host = named ? std::optional(named->name) : std::nullopt;
    }
    const auto cacheable = rules_.match_for_kernel_cache(c);
    if (!cacheable || cacheable->match.action != e.action ||
        cacheable->match.rule_name != *e.rule ||
        (cacheable->per_address && host_key_count_ >= TSN_MAX_VERDICTS)) {
        ++stats_.not_cacheable;
        return;
    }
    // The executable the kernel saw for this very flow; the decision is stored under it only
    // when it is the process (and user) the rules decided for.
    const tsn_flow_key fk = make_flow_key(netns_, c.protocol, c.src, c.src_port, c.dst, c.dst_port);
    const std::optional<tsn_flow_exe> noted = identity_of(fk, c.protocol);
    if (!noted || noted->exe.ino == 0 || noted->exe.path == 0 ||
        static_cast<int>(noted->tgid) != c.process->pid || (c.uid && *c.uid != noted->uid)) {
        ++stats_.no_identity;
        return;
    }
    // The kernel's path id is of the name the file has now; the rules saw the name exec used. A
    // file renamed since (the process still runs) would store this decision under its new name.
    if (c.process->path.starts_with('/')) {
        auto now =
            read_link(processes_.proc_root() + "/" + std::to_string(c.process->pid) + "/exe");
        if (now && *now != c.process->path) {
            ++stats_.no_identity;
            return;
        }
    }
    tsn_verdict v{};
    v.epoch = epoch;
    v.action = kernel_action(e.action);
    const uint64_t boot_now = boot_time_ns();
    std::optional<uint64_t> expires;
    const auto until = [&](std::chrono::nanoseconds left) {
        const uint64_t at = boot_now + static_cast<uint64_t>(std::max<int64_t>(left.count(), 0));
        if (!expires || at < *expires) expires = at;
    };
    if (cacheable->expires)
        until(std::chrono::duration_cast<std::chrono::nanoseconds>(
            *cacheable->expires - std::chrono::system_clock::now()));
    if (cacheable->per_address && named)  // the name lapses with its TTL
        until(std::chrono::duration_cast<std::chrono::nanoseconds>(
            named->expires - std::chrono::steady_clock::now()));
    if (expires && *expires <= boot_now) return;
    v.expires_ns = expires.value_or(0);
    const tsn_verdict_key key =
        make_verdict_key(noted->exe, noted->uid, c.protocol, c.dst, c.dst_port);
    v.rule_id = rule_id_locked(*e.rule, cacheable->match.nolog);
    if (exe_paths_.size() >= TSN_MAX_VERDICTS) exe_paths_.clear();
    exe_paths_[exe_key(noted->exe)] = c.process->path;
    if (bpf_map_update_elem(bpf_map__fd(skel_->maps.tsn_verdicts), &key, &v, BPF_ANY) != 0) return;
    ++stats_.stored;
    if (cacheable->per_address) {
        host_keys_[dns_cache_key(c.dst)].push_back(key);
        ++host_key_count_;
    }
}

std::optional<tsn_flow_exe> KernelVerdicts::identity_of(const tsn_flow_key& key,
                                                        Protocol protocol) const {
    if (tcp_keys_ && protocol == Protocol::tcp) {
        tsn_owner o{};
        if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.tsn_flows), &key, &o) != 0)
            return std::nullopt;
        return tsn_flow_exe{o.exe, o.uid, o.tgid};
    }
    tsn_flow_exe e{};
    if (bpf_map_lookup_elem(bpf_map__fd(skel_->maps.tsn_flow_exes), &key, &e) != 0)
        return std::nullopt;
    return e;
}

void KernelVerdicts::address_renamed(const IpAddress* address) {
    if (address == nullptr) {
        invalidate();
        return;
    }
    std::lock_guard lock(mu_);
    auto it = host_keys_.find(dns_cache_key(*address));
    if (it == host_keys_.end()) return;
    const int fd = bpf_map__fd(skel_->maps.tsn_verdicts);
    for (const tsn_verdict_key& k : it->second)
        bpf_map_delete_elem(fd, &k);
    host_key_count_ -= it->second.size();
    host_keys_.erase(it);
}

int KernelVerdicts::ring_callback(void* self, void* data, size_t size) {
    if (size < sizeof(tsn_decision)) return 0;
    tsn_decision r{};
    std::memcpy(&r, data, sizeof r);
    return static_cast<KernelVerdicts*>(self)->on_record(r);
}

int KernelVerdicts::on_record(const tsn_decision& r) {
    DecisionEvent e = event_of_record(r, boot_time_ns(), std::chrono::system_clock::now());
    bool nolog = false;
    std::string path;  // the executable as the kernel names it, when known
    {
        std::lock_guard lock(mu_);
        ++stats_.decisions;
        if (auto it = rules_by_id_.find(r.rule_id); it != rules_by_id_.end()) {
            e.rule = it->second.name;
            nolog = it->second.nolog;
        }
        if (auto it = exe_paths_.find(exe_key(r.exe)); it != exe_paths_.end()) path = it->second;
    }
    // The rest of what the queue path's event says, while the process is still there and still
    // runs what the kernel saw: the process model's record of it, shared when it says the same.
    auto [it, fresh] = batch_processes_.try_emplace(r.tgid);
    if (fresh) {
        if (auto now = processes_.process(static_cast<int>(r.tgid))) it->second = std::move(*now);
    }
    const ProcessRef& live = it->second;
    const bool same_program = live && live->path == path;
    if (same_program) e.connection.process = live;
    if (!same_program || live->uid != r.uid) {
        ProcessInfo& p = copy_to_change(e.connection.process);
        p.path = path;
        p.uid = r.uid;
        if (p.user.empty()) p.user = processes_.user_name(r.uid);
    }
    if (names_) e.connection.dst_host = names_->lookup(e.connection.dst);
    if (engine_) engine_->on_kernel_decision(std::move(e), nolog);
    return 0;
}

void KernelVerdicts::read_loop() {
    UniqueFd ep(::epoll_create1(EPOLL_CLOEXEC));
    UniqueFd timer(::timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK));
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(options_.read_interval);
    itimerspec every{};
    every.it_interval.tv_sec = static_cast<time_t>(ns.count() / 1000000000);
    every.it_interval.tv_nsec = static_cast<long>(ns.count() % 1000000000);
    every.it_value = every.it_interval;
    ::timerfd_settime(timer.get(), 0, &every, nullptr);
    // The ring's own descriptor is readable only when the programs woke it: a quarter of the
    // ring waits.
    const int ring_fd = ring_buffer__epoll_fd(ring_);
    for (int fd : {timer.get(), stop_fd_.get(), ring_fd}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        ::epoll_ctl(ep.get(), EPOLL_CTL_ADD, fd, &ev);
    }
    // Records are submitted without a wake-up (one per record would cost what the queue costs):
    // they are read in batches, on a timer, or early when a burst fills the ring.
    for (;;) {
        epoll_event events[3];
        const int n = ::epoll_wait(ep.get(), events, 3, -1);
        if (n < 0 && errno == EINTR) continue;
        bool stop = n < 0;
        for (int i = 0; i < n; ++i) {
            if (events[i].data.fd == stop_fd_.get()) stop = true;
            if (events[i].data.fd == ring_fd) {
                std::lock_guard lock(mu_);
                ++stats_.early_reads;
                continue;
            }
            uint64_t count = 0;
            (void)!::read(events[i].data.fd, &count, sizeof count);
        }
        ring_buffer__consume(ring_);
        batch_processes_.clear();
        if (stop) return;
    }
}

KernelPathStats KernelVerdicts::stats() const {
    std::lock_guard lock(mu_);
    KernelPathStats s = stats_;
    s.epoch = epoch_.load();
    return s;
}

Status probe_kernel_path() {
    tsnitch_verdict* s = tsnitch_verdict__open();
    if (s == nullptr) return make_error("opening the eBPF object: " + errno_text(errno), errno);
    shrink_attribution_maps(s);
    const int err = tsnitch_verdict__load(s);
    tsnitch_verdict__destroy(s);
    if (err != 0) return make_error("loading its programs: " + errno_text(err), -err);
    return Ok{};
}

}  // namespace tsnitch::bpf
