// SPDX-License-Identifier: GPL-2.0
// The kernel path for decided flows (DESIGN.md §8a). User space decides; these programs apply a
// decision it cached, so that the flow never visits the queue:
//
//   cgroup connect4/6 (TCP, connected UDP) and sendmsg4/6 (unconnected UDP): in tsnitch's own
//     network namespace only, look the new flow up in tsn_verdicts (executable identity, uid,
//     protocol, destination). A hit files what the socket's packets to that destination get:
//     a connected socket's in its own tsn_socks entry (tsn_sock.verdict, written in place), a
//     datagram's or one of a socket without an entry in tsn_skips; reject fails the call at once
//     (EPERM). A miss files a note, so that the first packet tells user space which executable
//     the kernel saw for the flow.
//   socket filters tsn_pass / tsn_drop, pinned and used by xt_bpf (`-m bpf --object-pinned`) in
//     tsnitch's chain just before the NFQUEUE rule: match a new packet whose socket and
//     destination have an allow (pass) or deny (drop) entry. The first packet of each entry
//     writes the decision's record to the ring buffer (no wake-up; user space reads in batches);
//     when no record can be reserved, the packet does not match and takes the queue: nothing is
//     decided unlogged.
//   tsn_pass also files the flow key of every outgoing SYN it does not pass in the attribution
//     module's maps (tsn_kconfig.tcp_keys; user space shares them, tsnitch.bpf.c fills them
//     otherwise): one run per connection where the sockops program ran on nine callbacks of
//     every TCP socket of the machine, so the attribution module leaves sockops out while the
//     kernel path runs.
#include <linux/bpf.h>

#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

// tsn_flows and tsn_socks: user space hands the attribution module's descriptors in before
// loading (bpf_map__reuse_fd), or shrinks them to one unused entry when no attribution module
// runs (tcp_keys is then 0).
#include "attribution_maps.bpf.h"
#include "tsnitch_bpf.h"
#include "verdict_bpf.h"
// After the headers above: it uses struct tsn_exe_id.
#include "exe_identity.bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct tsn_kconfig);
} tsn_kconfig SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_HASH);
    __uint(max_entries, TSN_MAX_VERDICTS);
    __type(key, struct tsn_verdict_key);
    __type(value, struct tsn_verdict);
} tsn_verdicts SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TSN_MAX_SKIPS);
    __type(key, struct tsn_skip_key);
    __type(value, struct tsn_skip);
} tsn_skips SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TSN_MAX_FLOW_EXES);
    __type(key, struct tsn_flow_key);
    __type(value, struct tsn_flow_exe);
} tsn_flow_exes SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_RINGBUF);
    __uint(max_entries, TSN_RING_BYTES);  // user space may shrink it before loading (a test knob)
} tsn_decisions SEC(".maps");

_Static_assert(sizeof(struct tsn_skip) <= sizeof(((struct tsn_sock*)0)->verdict),
               "a socket entry has room for its skip entry");

// Scratch space for building a skip entry (too large for the 512-byte stack with the rest).
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct tsn_skip);
} tsn_skip_scratch SEC(".maps");

static __always_inline struct tsn_kconfig* config(void) {
    __u32 zero = 0;
    return bpf_map_lookup_elem(&tsn_kconfig, &zero);
}

static __always_inline int is_v4_mapped(const __u32 a[4]) {
    return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0x0000ffff);
}

// The destination of a connect/sendmsg ctx, as the packet will show it: a v4-mapped IPv6
// destination of a dual-stack socket is an IPv4 packet.
static __always_inline void destination_of(struct bpf_sock_addr* ctx, int v6, __u8* family,
                                           __u8 daddr[16]) {
    if (!v6) {
        __u32 a = ctx->user_ip4;
        *family = AF_INET;
        __builtin_memcpy(daddr, &a, 4);
        return;
    }
    __u32 d[4];
    d[0] = ctx->user_ip6[0];
    d[1] = ctx->user_ip6[1];
    d[2] = ctx->user_ip6[2];
    d[3] = ctx->user_ip6[3];
    if (is_v4_mapped(d)) {
        *family = AF_INET;
        __builtin_memcpy(daddr, &d[3], 4);
    } else {
        *family = AF_INET6;
        __builtin_memcpy(daddr, d, 16);
    }
}

static __always_inline void fill_record(struct tsn_decision* r, __u64 cookie,
                                        const struct tsn_verdict_key* k) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    r->time_ns = bpf_ktime_get_boot_ns();
    r->cookie = cookie;
    r->exe = k->exe;
    r->tgid = pid_tgid >> 32;
    r->pid = (__u32)pid_tgid;
    r->uid = k->uid;
    r->protocol = k->protocol;
    r->family = k->family;
    r->dport = k->dport;
    __builtin_memcpy(r->daddr, k->daddr, 16);
    bpf_get_current_comm(r->comm, sizeof(r->comm));
}

// Records go without a wake-up: the reader reads them in batches on its timer. Once
// cfg->wake_bytes wait (a quarter of the ring), the reader is woken at once, before a burst fills
// the ring (a full ring sends flows to the queue instead).
static __always_inline void submit_record(struct tsn_decision* r, const struct tsn_kconfig* cfg) {
    const int wake = cfg->wake_bytes != 0 &&
                     bpf_ringbuf_query(&tsn_decisions, BPF_RB_AVAIL_DATA) >= cfg->wake_bytes;
    bpf_ringbuf_submit(r, wake ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

// Copies a valid cached decision for this flow into *out; 0 when there is none. (A copy, not
// the map pointer: the verifier loses a nullable pointer kept across the code below.)
static __always_inline int cached(const struct tsn_verdict_key* k, const struct tsn_kconfig* cfg,
                                  struct tsn_verdict* out) {
    struct tsn_verdict* v = bpf_map_lookup_elem(&tsn_verdicts, k);
    if (!v || v->epoch != cfg->epoch) return 0;
    if (v->expires_ns != 0 && bpf_ktime_get_boot_ns() >= v->expires_ns) return 0;
    __builtin_memcpy(out, v, sizeof(*out));
    return 1;
}

// 1: the call goes on; 0: it fails with EPERM (reject).
static __always_inline int on_new_flow(struct bpf_sock_addr* ctx, int v6, int per_datagram) {
    // First of all: only sockets of tsnitch's own network namespace.
    struct tsn_kconfig* cfg = config();
    if (!cfg || !cfg->enabled || bpf_get_netns_cookie(ctx) != cfg->netns) return 1;
    if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP) return 1;
    if (per_datagram && ctx->protocol != IPPROTO_UDP) return 1;

    struct tsn_verdict_key k = {};
    const __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    tsn_exe_id_of(&k.exe, bpf_map_lookup_elem(&tsn_procs, &tgid));
    k.uid = (__u32)bpf_get_current_uid_gid();
    k.protocol = ctx->protocol;
    k.dport = bpf_ntohs((__u16)ctx->user_port);
    destination_of(ctx, v6, &k.family, k.daddr);

    const __u64 cookie = bpf_get_socket_cookie(ctx);
    struct tsn_skip_key sk = {};
    sk.cookie = cookie;
    sk.protocol = k.protocol;
    sk.family = k.family;
    sk.dport = k.dport;
    __builtin_memcpy(sk.daddr, k.daddr, 16);

    struct tsn_verdict v = {};
    const int hit = cached(&k, cfg, &v);
    if (hit && per_datagram) {
        // The socket already sent there under this decision: logged once, as the queue's flow
        // cache answers later datagrams of a decided flow without a new event.
        struct tsn_skip* old = bpf_map_lookup_elem(&tsn_skips, &sk);
        if (old && old->epoch == v.epoch && old->action == v.action &&
            old->record.rule_id == v.rule_id)
            return v.action == TSN_ACT_REJECT ? 0 : 1;
    }
    // A connected socket's decision goes into its own entry in the attribution module's tsn_socks
    // when it has one (written in place, no map update); a datagram's, or one without an entry
    // (no attribution module, a socket it does not know), into tsn_skips.
    struct tsn_sock* owned = per_datagram ? 0 : bpf_map_lookup_elem(&tsn_socks, &cookie);
    struct tsn_skip* s = 0;
    if (owned) {
        s = (struct tsn_skip*)owned->verdict;
    } else {
        __u32 zero = 0;
        s = bpf_map_lookup_elem(&tsn_skip_scratch, &zero);
    }
    if (!s) return 1;
    __builtin_memset(s, 0, sizeof(*s));
    fill_record(&s->record, cookie, &k);
    s->action = TSN_ACT_NOTE;
    s->epoch = cfg->epoch;
    if (hit) {
        s->record.rule_id = v.rule_id;
        s->record.epoch = v.epoch;
        s->record.action = v.action;
        s->expires_ns = v.expires_ns;
        s->epoch = v.epoch;
        if (v.action != TSN_ACT_REJECT) {
            s->action = v.action;
        } else {
            // No packet follows: the record goes now, or the queue decides instead. The source
            // is what the socket is bound to (sendmsg: always; connect: when bound before).
            struct bpf_sock* bound = ctx->sk;
            if (bound) {
                s->record.sport = (__u16)bound->src_port;
                if (!v6) {
                    __u32 a = bound->src_ip4;
                    __builtin_memcpy(s->record.saddr, &a, 4);
                } else if (k.family == AF_INET) {
                    __u32 a = bound->src_ip6[3];
                    __builtin_memcpy(s->record.saddr, &a, 4);
                } else {
                    __u32 a[4];
                    a[0] = bound->src_ip6[0];
                    a[1] = bound->src_ip6[1];
                    a[2] = bound->src_ip6[2];
                    a[3] = bound->src_ip6[3];
                    __builtin_memcpy(s->record.saddr, a, 16);
                }
            }
            struct tsn_decision* r = bpf_ringbuf_reserve(&tsn_decisions, sizeof(*r), 0);
            if (r) {
                __builtin_memcpy(r, &s->record, sizeof(*r));
                submit_record(r, cfg);
                s->action = TSN_ACT_REJECT;
                s->logged = 1;
                if (!owned) bpf_map_update_elem(&tsn_skips, &sk, s, BPF_ANY);
                return 0;
            }
        }
    }
    if (!owned) bpf_map_update_elem(&tsn_skips, &sk, s, BPF_ANY);
    return 1;
}

SEC("cgroup/connect4")
int tsn_verdict_connect4(struct bpf_sock_addr* ctx) {
    return on_new_flow(ctx, 0, 0);
}

SEC("cgroup/connect6")
int tsn_verdict_connect6(struct bpf_sock_addr* ctx) {
    return on_new_flow(ctx, 1, 0);
}

SEC("cgroup/sendmsg4")
int tsn_verdict_sendmsg4(struct bpf_sock_addr* ctx) {
    return on_new_flow(ctx, 0, 1);
}

SEC("cgroup/sendmsg6")
int tsn_verdict_sendmsg6(struct bpf_sock_addr* ctx) {
    return on_new_flow(ctx, 1, 1);
}

// A packet's addresses and ports, read from its IP header (xt_bpf hands the program the packet
// from the network header on). 0 when it is no TCP/UDP packet with ports.
struct packet_flow {
    __u8 protocol;
    __u8 family;
    __u16 sport;
    __u16 dport;
    __u8 saddr[16];
    __u8 daddr[16];
};

static __always_inline int parse_packet(struct __sk_buff* skb, struct packet_flow* f) {
    __u8 first = 0;
    if (bpf_skb_load_bytes(skb, 0, &first, 1) < 0) return 0;
    __u32 l4 = 0;
    if ((first >> 4) == 4) {
        __u8 h[20];
        if (bpf_skb_load_bytes(skb, 0, h, sizeof(h)) < 0) return 0;
        if (((h[6] & 0x1f) | h[7]) != 0) return 0;  // a later fragment: no ports in it
        f->family = AF_INET;
        f->protocol = h[9];
        __builtin_memcpy(f->saddr, &h[12], 4);
        __builtin_memcpy(f->daddr, &h[16], 4);
        l4 = (__u32)(first & 0x0f) * 4;
    } else if ((first >> 4) == 6) {
        __u8 h[40];
        if (bpf_skb_load_bytes(skb, 0, h, sizeof(h)) < 0) return 0;
        f->family = AF_INET6;
        f->protocol = h[6];  // extension headers are not followed: such packets take the queue
        __builtin_memcpy(f->saddr, &h[8], 16);
        __builtin_memcpy(f->daddr, &h[24], 16);
        l4 = 40;
    } else {
        return 0;
    }
    if (f->protocol != IPPROTO_TCP && f->protocol != IPPROTO_UDP) return 0;
    if (l4 < 20 || l4 > 60) return 0;
    __u16 ports[2];
    if (bpf_skb_load_bytes(skb, l4, ports, sizeof(ports)) < 0) return 0;
    f->sport = bpf_ntohs(ports[0]);
    f->dport = bpf_ntohs(ports[1]);
    return 1;
}

// Leaves the executable behind a queued flow where user space finds it by the packet's tuple.
// A TCP flow whose key tsn_pass files (tcp_keys) has it there already, in the owner connect4/6
// recorded in the same connect() as this entry: user space reads it from tsn_flows, and the
// flow costs no second map update.
static __always_inline void note_flow(const struct tsn_kconfig* cfg, const struct tsn_skip* s,
                                      const struct packet_flow* f) {
    if (cfg->tcp_keys && f->protocol == IPPROTO_TCP) return;
    struct tsn_flow_key fk = {};
    fk.netns = cfg->netns;
    fk.protocol = f->protocol;
    fk.family = f->family;
    fk.sport = f->sport;
    fk.dport = f->dport;
    __builtin_memcpy(fk.saddr, f->saddr, 16);
    __builtin_memcpy(fk.daddr, f->daddr, 16);
    struct tsn_flow_exe e = {};
    e.exe = s->record.exe;
    e.uid = s->record.uid;
    e.tgid = s->record.tgid;
    bpf_map_update_elem(&tsn_flow_exes, &fk, &e, BPF_ANY);
}

// The TCP flow key of a SYN, under the owner connect4/6 recorded for its socket a moment earlier
// (the SYN leaves inside connect()), as sockops TCP_CONNECT_CB files it in tsnitch.bpf.c. A
// socket the attribution module does not know (it predates tsnitch and connected without
// connect(): TCP Fast Open) gets no key: the current task of a retransmitted SYN is whoever
// the timer interrupted, never an owner.
static __always_inline void file_tcp_key(struct tsn_sock* s, const struct packet_flow* f) {
    if (!s) return;
    struct tsn_flow_key k = {};
    k.netns = s->netns;
    k.protocol = IPPROTO_TCP;
    k.family = f->family;
    k.sport = f->sport;
    k.dport = f->dport;
    __builtin_memcpy(k.saddr, f->saddr, 16);
    __builtin_memcpy(k.daddr, f->daddr, 16);
    store_flow(&k, s);
}

// The skip entry connect4/6 wrote into the socket's own entry, when it is for this packet's
// destination (a UDP socket connected elsewhere since has another).
static __always_inline struct tsn_skip* skip_for(struct tsn_sock* sock, __u64 cookie,
                                                 const struct packet_flow* f) {
    struct tsn_skip* s = (struct tsn_skip*)sock->verdict;
    if (s->record.cookie != cookie || s->record.protocol != f->protocol ||
        s->record.family != f->family || s->record.dport != f->dport)
        return 0;
    __u32 a[4], b[4];
    __builtin_memcpy(a, s->record.daddr, 16);
    __builtin_memcpy(b, f->daddr, 16);
    if (a[0] != b[0] || a[1] != b[1] || a[2] != b[2] || a[3] != b[3]) return 0;
    return s;
}

// 1 (the xt_bpf match holds) when the packet's socket has a current `want` decision for its
// destination and that decision is (or was already) logged.
static __always_inline int kernel_decides(const struct tsn_kconfig* cfg, __u64 cookie,
                                          struct tsn_sock* sock, const struct packet_flow* f,
                                          __u8 want) {
    struct tsn_skip* s = sock ? skip_for(sock, cookie, f) : 0;
    if (!s) {
        struct tsn_skip_key sk = {};
        sk.cookie = cookie;
        sk.protocol = f->protocol;
        sk.family = f->family;
        sk.dport = f->dport;
        __builtin_memcpy(sk.daddr, f->daddr, 16);
        s = bpf_map_lookup_elem(&tsn_skips, &sk);
    }
    if (!s) return 0;
    if (s->action == TSN_ACT_NOTE) {
        // Only one of the two programs notes it (both see the packet).
        if (want == TSN_ACT_ALLOW) note_flow(cfg, s, f);
        return 0;
    }
    if (s->action != want || s->epoch != cfg->epoch) return 0;
    if (s->expires_ns != 0 && bpf_ktime_get_boot_ns() >= s->expires_ns) return 0;
    if (s->logged) return 1;
    if (__sync_val_compare_and_swap(&s->logged, 0, 1) != 0) return 1;  // another CPU logs it
    struct tsn_decision* r = bpf_ringbuf_reserve(&tsn_decisions, sizeof(*r), 0);
    if (!r) {
        // The queue decides this flow, and only the queue: later packets of this entry must not
        // be logged as a second, kernel-path decision.
        s->action = TSN_ACT_NOTE;
        note_flow(cfg, s, f);
        return 0;
    }
    __builtin_memcpy(r, &s->record, sizeof(*r));
    r->time_ns = bpf_ktime_get_boot_ns();
    r->sport = f->sport;
    __builtin_memcpy(r->saddr, f->saddr, 16);
    submit_record(r, cfg);
    return 1;
}

static __always_inline int packet_decided(struct __sk_buff* skb, __u8 want) {
    struct tsn_kconfig* cfg = config();
    if (!cfg) return 0;
    const __u64 cookie = bpf_get_socket_cookie(skb);
    if (cookie == 0) return 0;
    struct packet_flow f = {};
    if (!parse_packet(skb, &f)) return 0;
    // The socket's entry: where connect4/6 left the decision for its destination, and the owner
    // a TCP key is filed under.
    struct tsn_sock* sock = bpf_map_lookup_elem(&tsn_socks, &cookie);
    const int decided = cfg->enabled && kernel_decides(cfg, cookie, sock, &f, want);
    // The TCP key of every SYN that tsn_pass does not pass (also while the decisions are off,
    // before start and after stop): the queue attributes the flow by it. One the kernel path
    // passes needs none, its record names the process; a retransmit that takes the queue later
    // (a new epoch) files it then, from the socket's owner. Only tsn_pass files (both programs
    // see the packet); the rule runs them for SYNs only.
    if (!decided && want == TSN_ACT_ALLOW && cfg->tcp_keys && f.protocol == IPPROTO_TCP)
        file_tcp_key(sock, &f);
    return decided;
}

SEC("socket")
int tsn_pass(struct __sk_buff* skb) {
    return packet_decided(skb, TSN_ACT_ALLOW);
}

SEC("socket")
int tsn_drop(struct __sk_buff* skb) {
    return packet_decided(skb, TSN_ACT_DENY);
}

char LICENSE[] SEC("license") = "GPL";
