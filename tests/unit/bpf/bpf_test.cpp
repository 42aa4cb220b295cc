// The user-space half of the eBPF rung: where the cgroup v2 root is, how flow keys are built so
// that they meet the ones the BPF programs store, and that both compilers lay the shared structs
// out alike (checked against the BTF of the built BPF object).
#include <bpf/btf.h>
#include <doctest/doctest.h>

#include <cstddef>
#include <cstring>
#include <set>
#include <string>

#include "bpf/bpf_monitor.h"
#include "bpf/cgroup_root.h"
#include "bpf/flow_key.h"
#include "bpf/kernel_verdicts.h"

using namespace tsnitch;
using namespace tsnitch::bpf;

namespace {

IpAddress ip(const char* s) {
    auto a = IpAddress::parse(s);
    REQUIRE_MESSAGE(a.has_value(), s);
    return *a;
}

bool same_bytes(const tsn_flow_key& a, const tsn_flow_key& b) {
    return std::memcmp(&a, &b, sizeof(a)) == 0;
}

}  // namespace

TEST_CASE("the cgroup v2 mount point is found in mountinfo") {
    const std::string text =
        "22 27 0:21 / /proc rw,relatime - proc proc rw\n"
        "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n"
        "32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n"
        "41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:9 - cgroup2 cgroup2 rw\n";
    auto root = cgroup2_mount_point(text);
    REQUIRE(root.ok());
    CHECK(*root == "/sys/fs/cgroup/unified");
}

TEST_CASE("a mount of the hierarchy's root wins over a mount of a sub-cgroup") {
    const std::string text =
        "50 31 0:38 /user.slice /mnt/user rw - cgroup2 cgroup2 rw\n"
        "51 31 0:38 / /sys/fs/cgroup rw,nosuid shared:4 master:1 - cgroup2 cgroup2 rw\n";
    auto root = cgroup2_mount_point(text);
    REQUIRE(root.ok());
    CHECK(*root == "/sys/fs/cgroup");

    auto only_sub = cgroup2_mount_point("50 31 0:38 /user.slice /mnt/user rw - cgroup2 none rw\n");
    REQUIRE(only_sub.ok());
    CHECK(*only_sub == "/mnt/user");
}

TEST_CASE("escaped characters in the mount point are decoded") {
    auto root = cgroup2_mount_point("41 31 0:38 / /mnt/my\\040cgroups rw - cgroup2 cgroup2 rw\n");
    REQUIRE(root.ok());
    CHECK(*root == "/mnt/my cgroups");
}

TEST_CASE("a machine with only cgroup v1 (or garbage) has no root, and says why") {
    auto v1 = cgroup2_mount_point("32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu\n");
    CHECK_FALSE(v1.ok());
    CHECK(v1.error().message.find("cgroup2") != std::string::npos);
    CHECK_FALSE(cgroup2_mount_point("").ok());
    CHECK_FALSE(cgroup2_mount_point("cgroup2 cgroup2 -\n- cgroup2\n1 2 3\n").ok());
    // A mount point field that looks like the separator does not confuse the parser.
    auto odd = cgroup2_mount_point("1 2 0:1 / - rw - tmpfs cgroup2 rw\n");
    CHECK_FALSE(odd.ok());
}

TEST_CASE("IPv4 flow keys hold addresses in network order and ports in host order") {
    auto k = make_flow_key(7, Protocol::udp, ip("10.77.0.1"), 40000, ip("10.77.0.2"), 53);
    CHECK(k.netns == 7);
    CHECK(k.protocol == 17);
    CHECK(k.family == 2);
    CHECK(k.sport == 40000);
    CHECK(k.dport == 53);
    const uint8_t src[4] = {10, 77, 0, 1}, dst[4] = {10, 77, 0, 2};
    CHECK(std::memcmp(k.saddr, src, 4) == 0);
    CHECK(std::memcmp(k.daddr, dst, 4) == 0);
    for (int i = 4; i < 16; ++i)
        CHECK(k.saddr[i] == 0);
}

TEST_CASE("a dual-stack socket's IPv4 flow has the key of the IPv4 packet") {
    // sock_diag reports such a socket as ::ffff:a.b.c.d; the packet is plain IPv4.
    auto packet = make_flow_key(3, Protocol::tcp, ip("10.0.0.1"), 5000, ip("10.0.0.2"), 443);
    auto socket =
        make_flow_key(3, Protocol::tcp, ip("::ffff:10.0.0.1"), 5000, ip("::ffff:10.0.0.2"), 443);
    CHECK(same_bytes(packet, socket));
    CHECK(socket.family == 2);

    // Bound to :: and sending to a mapped peer: an IPv4 key without a source address.
    auto unbound = make_flow_key(3, Protocol::udp, ip("::"), 5000, ip("::ffff:10.0.0.2"), 53);
    CHECK(unbound.family == 2);
    CHECK(same_bytes(unbound, without_source_address(make_flow_key(3, Protocol::udp, ip("10.0.0.1"),
                                                                   5000, ip("10.0.0.2"), 53))));
}

TEST_CASE("IPv6 flow keys keep all 16 bytes") {
    auto k = make_flow_key(1, Protocol::tcp, ip("fd77::1"), 1234, ip("fd77::2"), 80);
    CHECK(k.family == 10);
    CHECK(k.saddr[0] == 0xfd);
    CHECK(k.saddr[15] == 1);
    CHECK(k.daddr[15] == 2);
}

TEST_CASE("the any-source key differs only in the source address") {
    auto k = make_flow_key(9, Protocol::udp, ip("fd77::1"), 999, ip("fd77::2"), 53);
    auto any = without_source_address(k);
    for (uint8_t b : any.saddr)
        CHECK(b == 0);
    CHECK(std::memcmp(any.daddr, k.daddr, 16) == 0);
    CHECK(any.sport == k.sport);
    CHECK(any.netns == k.netns);
    CHECK_FALSE(same_bytes(any, k));
}

TEST_CASE("keys of different namespaces or protocols never meet") {
    auto a = make_flow_key(1, Protocol::udp, ip("10.0.0.1"), 1, ip("10.0.0.2"), 2);
    CHECK_FALSE(
        same_bytes(a, make_flow_key(2, Protocol::udp, ip("10.0.0.1"), 1, ip("10.0.0.2"), 2)));
    CHECK_FALSE(
        same_bytes(a, make_flow_key(1, Protocol::tcp, ip("10.0.0.1"), 1, ip("10.0.0.2"), 2)));
}

TEST_CASE("map records become owners and processes without overrunning fixed buffers") {
    tsn_owner o{};
    o.tgid = 42;
    o.pid = 43;
    o.uid = 1000;
    o.exe.ino = 99;
    o.image.exec_ns = 7;
    o.image.tgid = 41;
    std::memset(o.comm, 'x', sizeof(o.comm));  // the kernel may fill all 16 bytes
    SocketOwner s = owner_from_map(o);
    CHECK(s.tgid == 42);
    CHECK(s.pid == 43);
    CHECK(s.comm == std::string(16, 'x'));
    CHECK(s.exe.ino == 99);
    CHECK(s.image.tgid == 41);

    tsn_proc p{};
    p.image.exec_ns = 5;
    p.ppid = 7;
    p.exit_ns = 5;
    ProcRecord r = proc_from_map(p);
    CHECK(r.exited);
    CHECK(r.ppid == 7);
    CHECK(same_image(r.image, p.image));
    CHECK_FALSE(same_image(tsn_image_key{}, tsn_image_key{}));  // "unknown" is never the same
}

namespace {
tsn_image image_at(std::string_view exe, bool reachable = true) {
    tsn_image i{};
    REQUIRE(set_image_path(i, exe, reachable));
    return i;
}
}  // namespace

TEST_CASE("an image's path reads as the kernel names it") {
    CHECK(image_path(image_at("/usr/bin/curl")) == "/usr/bin/curl");
    CHECK(image_path(image_at("/")) == "/");
    CHECK(image_path(image_at("/tmp/gone (deleted)")) == "/tmp/gone (deleted)");
    CHECK(image_path(image_at("/memfd:payload (deleted)")) == "/memfd:payload (deleted)");
    // Inside another mount namespace: never a host path.
    CHECK(image_path(image_at("/usr/bin/curl", false)) == "(unreachable)/usr/bin/curl");

    // As the exec tracepoint fills it: leaf first; a memfd is a pseudo file of no mounted tree.
    tsn_image m{};
    std::strcpy(m.comp[0], "memfd:x");
    m.depth = 1;
    m.complete = 1;
    m.pseudo = 1;
    CHECK(image_path(m) == "/memfd:x (deleted)");
    m.complete = 0;
    CHECK_FALSE(image_path(m).has_value());  // a walk that did not finish names nothing
}

TEST_CASE("paths that do not fit the record are marked incomplete, not cut") {
    tsn_image i{};
    std::string deep;
    for (int n = 0; n <= TSN_PATH_DEPTH; ++n)
        deep += "/d";
    CHECK_FALSE(set_image_path(i, deep, true));
    CHECK_FALSE(image_path(i).has_value());
    CHECK_FALSE(set_image_path(i, "/" + std::string(TSN_NAME_MAX, 'n'), true));
    CHECK_FALSE(set_image_path(i, "relative/path", true));
}

TEST_CASE("argv recorded at exec is split like /proc/PID/cmdline and cut at the bound") {
    tsn_image i{};
    set_image_args(i, std::string_view("python3\0/srv/job.py\0--once\0", 27));
    ImageRecord r = image_from_map(i);
    CHECK(r.args == std::vector<std::string>{"python3", "/srv/job.py", "--once"});
    CHECK_FALSE(r.args_truncated);
    const std::string big(TSN_ARGS_MAX + 10, 'a');
    set_image_args(i, big);
    r = image_from_map(i);
    CHECK(r.args_truncated);
    REQUIRE(r.args.size() == 1);
    CHECK(r.args[0].size() == TSN_ARGS_MAX);
}

TEST_CASE("the kernel path's verdict key names the destination as the packet shows it") {
    const tsn_exe_id exe{1234, (8u << 20) | 1u, 7};
    const tsn_verdict_key a = make_verdict_key(exe, 1000, Protocol::tcp, ip("10.77.0.2"), 8080);
    const tsn_verdict_key mapped =
        make_verdict_key(exe, 1000, Protocol::tcp, ip("::ffff:10.77.0.2"), 8080);
    CHECK(std::memcmp(&a, &mapped, sizeof a) == 0);  // a dual-stack socket's IPv4 peer
    CHECK(a.family == 2);
    CHECK(a.dport == 8080);
    CHECK(a.exe.ino == 1234);
    CHECK(a.exe.generation == 7);
    CHECK(a.daddr[0] == 10);
    CHECK(a.daddr[3] == 2);
    CHECK(a.daddr[4] == 0);
    const tsn_verdict_key v6 = make_verdict_key(exe, 1000, Protocol::udp, ip("fd77::2"), 53);
    CHECK(v6.family == 10);
    CHECK(v6.protocol == 17);
    CHECK(v6.daddr[0] == 0xfd);
    CHECK(v6.daddr[15] == 2);
    // Another inode generation is another executable.
    const tsn_verdict_key other =
        make_verdict_key({1234, (8u << 20) | 1u, 8}, 1000, Protocol::tcp, ip("10.77.0.2"), 8080);
    CHECK(std::memcmp(&a, &other, sizeof a) != 0);
}

TEST_CASE("a kernel-path record becomes the event a queued decision would be") {
    tsn_decision r{};
    r.time_ns = 5'000'000'000ull;
    r.tgid = 4321;
    r.pid = 4322;
    r.uid = 1000;
    r.action = TSN_ACT_REJECT;
    r.protocol = 6;
    r.family = 10;
    r.sport = 40000;
    r.dport = 443;
    r.saddr[0] = r.daddr[0] = 0xfd;
    r.saddr[1] = r.daddr[1] = 0x77;
    r.saddr[15] = 1;
    r.daddr[15] = 2;
    std::memset(r.comm, 'c', sizeof(r.comm));  // all 16 bytes used, no NUL
    const auto now = std::chrono::system_clock::time_point{} + std::chrono::hours(500000);
    const DecisionEvent e = event_of_record(r, 7'000'000'000ull, now);
    CHECK(e.time == now - std::chrono::seconds(2));
    CHECK(e.action == Action::reject);
    CHECK(e.reason == Reason::rule);
    CHECK(e.path == DecisionPath::kernel);
    CHECK(e.method == Method::ebpf);
    CHECK(e.connection.protocol == Protocol::tcp);
    CHECK(e.connection.src.to_string() == "fd77::1");
    CHECK(e.connection.dst.to_string() == "fd77::2");
    CHECK(e.connection.src_port == 40000);
    CHECK(e.connection.dst_port == 443);
    REQUIRE(e.connection.process);
    CHECK(e.connection.process->pid == 4321);  // the process, not the thread
    CHECK(e.connection.process->uid == 1000);
    CHECK(e.connection.process->comm == std::string(16, 'c'));
    r.family = 2;
    r.action = TSN_ACT_ALLOW;
    r.protocol = 17;
    r.daddr[0] = 10;
    r.daddr[1] = 77;
    r.daddr[2] = 0;
    r.daddr[3] = 2;
    const DecisionEvent v4 = event_of_record(r, 1, now);  // a clock behind the record: age 0
    CHECK(v4.time == now);
    CHECK(v4.action == Action::allow);
    CHECK(v4.connection.protocol == Protocol::udp);
    CHECK(v4.connection.dst.to_string() == "10.77.0.2");
}

#ifdef TSNITCH_BPF_OBJECT
namespace {

// The size of struct `name` in the BPF object, and the byte offset of its member `field`.
struct BtfLayout {
    btf* b = nullptr;
    explicit BtfLayout(const char* path) : b(btf__parse(path, nullptr)) {}
    ~BtfLayout() { btf__free(b); }
    const btf_type* find(const char* name) const {
        const int id = btf__find_by_name_kind(b, name, BTF_KIND_STRUCT);
        return id > 0 ? btf__type_by_id(b, id) : nullptr;
    }
    long offset(const char* name, const char* field) const {
        const btf_type* t = find(name);
        if (t == nullptr) return -1;
        const btf_member* m = btf_members(t);
        for (unsigned i = 0; i < btf_vlen(t); ++i, ++m) {
            if (std::strcmp(btf__name_by_offset(b, m->name_off), field) == 0) {
                return static_cast<long>(btf_member_bit_offset(t, i) / 8);
            }
        }
        return -1;
    }
};

}  // namespace

TEST_CASE("tsn_recent: a flow's key with and without its source address share a slot") {
    tsn_flow_key k{};
    k.netns = 42;
    k.protocol = 6;
    k.family = 2;
    k.dport = 443;
    const uint8_t dst[4] = {10, 0, 2, 2};
    std::memcpy(k.daddr, dst, 4);
    std::set<uint32_t> slots;
    for (uint16_t port = 32768; port < 32768 + 1000; ++port) {
        k.sport = port;
        const uint8_t src[4] = {10, 0, 2, 15};
        std::memcpy(k.saddr, src, 4);
        const uint32_t slot = tsn_recent_slot(&k);
        CHECK(slot < TSN_RECENT_SLOTS);
        std::memset(k.saddr, 0, sizeof k.saddr);
        CHECK(tsn_recent_slot(&k) == slot);
        slots.insert(slot);
    }
    // A thousand sequential source ports (one client's connects) over some 900 slots at least.
    CHECK(slots.size() > 850);
}

TEST_CASE("the structs in the maps have the same layout on both sides of the boundary") {
    BtfLayout l(TSNITCH_BPF_OBJECT);
    REQUIRE_MESSAGE(l.b != nullptr, "cannot read BTF of " TSNITCH_BPF_OBJECT);
    REQUIRE(l.find("tsn_flow_key") != nullptr);
    CHECK(l.find("tsn_flow_key")->size == sizeof(tsn_flow_key));
    CHECK(l.find("tsn_owner")->size == sizeof(tsn_owner));
    CHECK(l.find("tsn_sock")->size == sizeof(tsn_sock));
    CHECK(l.find("tsn_proc")->size == sizeof(tsn_proc));
    CHECK(l.find("tsn_image")->size == sizeof(tsn_image));
    CHECK(l.find("tsn_image_key")->size == sizeof(tsn_image_key));
    CHECK(l.find("tsn_exe_id")->size == sizeof(tsn_exe_id));
    CHECK(l.find("tsn_recent")->size == sizeof(tsn_recent));
#define FIELD(S, F) CHECK(l.offset(#S, #F) == static_cast<long>(offsetof(S, F)))
    FIELD(tsn_recent, seq);
    FIELD(tsn_recent, key);
    FIELD(tsn_recent, owner);
    FIELD(tsn_sock, verdict);
    FIELD(tsn_flow_key, netns);
    FIELD(tsn_flow_key, protocol);
    FIELD(tsn_flow_key, family);
    FIELD(tsn_flow_key, sport);
    FIELD(tsn_flow_key, dport);
    FIELD(tsn_flow_key, saddr);
    FIELD(tsn_flow_key, daddr);
    FIELD(tsn_owner, cookie);
    FIELD(tsn_owner, time_ns);
    FIELD(tsn_owner, released_ns);
    FIELD(tsn_owner, tgid);
    FIELD(tsn_owner, uid);
    FIELD(tsn_owner, comm);
    FIELD(tsn_sock, owner);
    FIELD(tsn_sock, key);
    FIELD(tsn_sock, netns);
    FIELD(tsn_sock, has_key);
    FIELD(tsn_sock, pending);
    FIELD(tsn_owner, exe);
    FIELD(tsn_owner, image);
    FIELD(tsn_exe_id, ino);
    FIELD(tsn_exe_id, dev);
    FIELD(tsn_exe_id, generation);
    FIELD(tsn_exe_id, path);
    FIELD(tsn_proc, image);
    FIELD(tsn_proc, exit_ns);
    FIELD(tsn_proc, ppid);
    FIELD(tsn_proc, forked);
    FIELD(tsn_proc, exe);
    FIELD(tsn_image, exe);
    FIELD(tsn_image, exec_ns);
    FIELD(tsn_image, depth);
    FIELD(tsn_image, unlinked);
    FIELD(tsn_image, comp);
    FIELD(tsn_image, args);
#undef FIELD
}

TEST_CASE("the kernel path's structs have the same layout on both sides of the boundary") {
    BtfLayout l(TSNITCH_VERDICT_OBJECT);
    REQUIRE_MESSAGE(l.b != nullptr, "cannot read BTF of " TSNITCH_VERDICT_OBJECT);
    for (const char* name : {"tsn_kconfig", "tsn_verdict_key", "tsn_verdict", "tsn_decision",
                             "tsn_skip_key", "tsn_skip", "tsn_flow_exe", "tsn_exe_id"})
        REQUIRE_MESSAGE(l.find(name) != nullptr, name);
    CHECK(l.find("tsn_exe_id")->size == sizeof(tsn_exe_id));
    CHECK(l.find("tsn_kconfig")->size == sizeof(tsn_kconfig));
    CHECK(l.find("tsn_verdict_key")->size == sizeof(tsn_verdict_key));
    CHECK(l.find("tsn_verdict")->size == sizeof(tsn_verdict));
    CHECK(l.find("tsn_decision")->size == sizeof(tsn_decision));
    CHECK(l.find("tsn_skip_key")->size == sizeof(tsn_skip_key));
    CHECK(l.find("tsn_skip")->size == sizeof(tsn_skip));
    CHECK(l.find("tsn_flow_exe")->size == sizeof(tsn_flow_exe));
#define FIELD(S, F) CHECK(l.offset(#S, #F) == static_cast<long>(offsetof(S, F)))
    FIELD(tsn_exe_id, ino);
    FIELD(tsn_exe_id, dev);
    FIELD(tsn_exe_id, generation);
    FIELD(tsn_exe_id, path);
    FIELD(tsn_kconfig, netns);
    FIELD(tsn_kconfig, epoch);
    FIELD(tsn_kconfig, enabled);
    FIELD(tsn_verdict_key, exe);
    FIELD(tsn_verdict_key, uid);
    FIELD(tsn_verdict_key, protocol);
    FIELD(tsn_verdict_key, family);
    FIELD(tsn_verdict_key, dport);
    FIELD(tsn_verdict_key, daddr);
    FIELD(tsn_verdict, expires_ns);
    FIELD(tsn_verdict, epoch);
    FIELD(tsn_verdict, rule_id);
    FIELD(tsn_verdict, action);
    FIELD(tsn_decision, time_ns);
    FIELD(tsn_decision, cookie);
    FIELD(tsn_decision, exe);
    FIELD(tsn_decision, tgid);
    FIELD(tsn_decision, uid);
    FIELD(tsn_decision, rule_id);
    FIELD(tsn_decision, action);
    FIELD(tsn_decision, sport);
    FIELD(tsn_decision, saddr);
    FIELD(tsn_decision, daddr);
    FIELD(tsn_decision, comm);
    FIELD(tsn_skip_key, cookie);
    FIELD(tsn_skip_key, dport);
    FIELD(tsn_skip_key, daddr);
    FIELD(tsn_skip, record);
    FIELD(tsn_skip, expires_ns);
    FIELD(tsn_skip, epoch);
    FIELD(tsn_skip, logged);
    FIELD(tsn_skip, action);
    FIELD(tsn_flow_exe, exe);
    FIELD(tsn_flow_exe, uid);
    FIELD(tsn_flow_exe, tgid);
#undef FIELD
}
#endif
