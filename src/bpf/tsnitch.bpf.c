// SPDX-License-Identifier: GPL-2.0
// Kernel side of tsnitch's attribution (DESIGN.md §7): remember which process used each socket and
// under which flow the packets will show up, so that user space can name the owner of a packet
// even when the process is already gone. Every program returns 1 (allow): it only observes; the
// decisions are made in user space through NFQUEUE.
//
// Where each flow key comes from:
//   TCP            sockops TCP_CONNECT_CB (both ports and addresses are known there); the owner
//                  was recorded by connect4/6 a moment earlier in the same syscall.
//   UDP sendto     sendmsg4/6 (destination in the ctx, source port bound by then).
//   connected UDP  connect4/6 records the owner and, when the source port is already bound, the
//                  key; otherwise the socket is "pending": user space finds it by its cookie
//                  (sock_diag) while it lives, and its close completes the key. (No hook runs
//                  between the port's binding and the netfilter OUTPUT hook for such sockets; a
//                  cgroup_skb egress program would run only after the queue, on every packet.)
#include <linux/bpf.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "tsnitch_bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

// Only the fields we read; CO-RE relocates them against the running kernel's BTF.
struct task_struct {
    int pid;
    int tgid;
    struct task_struct* real_parent;
} __attribute__((preserve_access_index));

struct in6_addr___tsn {
    __u32 words[4];
};

struct sock_common {
    __u32 skc_rcv_saddr;  // the bound local IPv4 address, network order
    __u16 skc_num;        // the bound local port, host order
    struct in6_addr___tsn skc_v6_rcv_saddr;
} __attribute__((preserve_access_index));

struct sock {
    struct sock_common __sk_common;
} __attribute__((preserve_access_index));

struct linux_binprm {
    const char* filename;
    const char* interp;
} __attribute__((preserve_access_index));

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TSN_MAX_FLOWS);
    __type(key, struct tsn_flow_key);
    __type(value, struct tsn_owner);
} tsn_flows SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TSN_MAX_SOCKETS);
    __type(key, __u64);
    __type(value, struct tsn_sock);
} tsn_socks SEC(".maps");

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TSN_MAX_EXECS);
    __type(key, __u32);
    __type(value, struct tsn_exec);
} tsn_execs SEC(".maps");

// Scratch space: struct tsn_exec is too large to build comfortably on the 512-byte stack.
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct tsn_exec);
} tsn_exec_scratch SEC(".maps");

static __always_inline void fill_owner(struct tsn_owner* o, __u64 cookie) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u64 uid_gid = bpf_get_current_uid_gid();
    o->cookie = cookie;
    o->time_ns = bpf_ktime_get_boot_ns();
    o->released_ns = 0;
    o->tgid = pid_tgid >> 32;
    o->pid = (__u32)pid_tgid;
    o->uid = (__u32)uid_gid;
    o->gid = uid_gid >> 32;
    bpf_get_current_comm(o->comm, sizeof(o->comm));
}

static __always_inline int is_v4_mapped(const __u32 a[4]) {
    return a[0] == 0 && a[1] == 0 && a[2] == bpf_htonl(0x0000ffff);
}

static __always_inline void set_v4(__u8 dst[16], __u32 a) {
    __builtin_memcpy(dst, &a, 4);
}

static __always_inline void set_v6(__u8 dst[16], const __u32 a[4]) {
    __builtin_memcpy(dst, a, 16);
}

// Builds an IPv6 key; a v4-mapped destination means the packet is IPv4, so the key is too (the
// source is then either mapped as well or unspecified).
static __always_inline void key_v6(struct tsn_flow_key* k, const __u32 src[4], const __u32 dst[4]) {
    if (is_v4_mapped(dst)) {
        k->family = AF_INET;
        if (is_v4_mapped(src)) set_v4(k->saddr, src[3]);
        set_v4(k->daddr, dst[3]);
    } else {
        k->family = AF_INET6;
        set_v6(k->saddr, src);
        set_v6(k->daddr, dst);
    }
}

static __always_inline void store_flow(struct tsn_flow_key* k, struct tsn_sock* s) {
    bpf_map_update_elem(&tsn_flows, k, &s->owner, BPF_ANY);
    s->key = *k;
    s->has_key = 1;
}

// The UDP flow towards the address in a connect/sendmsg ctx, from the socket's bound source
// (address and port zero when not bound yet).
static __always_inline void udp_key_to(struct bpf_sock_addr* ctx, struct bpf_sock* sk, __u64 netns,
                                       int v6, struct tsn_flow_key* k) {
    k->netns = netns;
    k->protocol = IPPROTO_UDP;
    k->sport = sk->src_port;
    k->dport = bpf_ntohs((__u16)ctx->user_port);
    if (!v6) {
        k->family = AF_INET;
        set_v4(k->saddr, sk->src_ip4);
        set_v4(k->daddr, ctx->user_ip4);
        return;
    }
    __u32 src[4], dst[4];
    src[0] = sk->src_ip6[0];
    src[1] = sk->src_ip6[1];
    src[2] = sk->src_ip6[2];
    src[3] = sk->src_ip6[3];
    dst[0] = ctx->user_ip6[0];
    dst[1] = ctx->user_ip6[1];
    dst[2] = ctx->user_ip6[2];
    dst[3] = ctx->user_ip6[3];
    key_v6(k, src, dst);
}

SEC("cgroup/sock_create")
int tsnitch_sock_create(struct bpf_sock* ctx) {
    if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP) return 1;
    struct tsn_sock s = {};
    __u64 cookie = bpf_get_socket_cookie(ctx);
    fill_owner(&s.owner, cookie);
    s.netns = bpf_get_netns_cookie(ctx);
    s.protocol = ctx->protocol;
    bpf_map_update_elem(&tsn_socks, &cookie, &s, BPF_ANY);
    return 1;
}

// The socket's entry with the current process as owner; created when the socket predates us.
static __always_inline struct tsn_sock* touch_sock(struct bpf_sock_addr* ctx, __u64 cookie) {
    struct tsn_sock* s = bpf_map_lookup_elem(&tsn_socks, &cookie);
    if (!s) {
        struct tsn_sock fresh = {};
        fresh.netns = bpf_get_netns_cookie(ctx);
        fresh.protocol = ctx->protocol;
        bpf_map_update_elem(&tsn_socks, &cookie, &fresh, BPF_ANY);
        s = bpf_map_lookup_elem(&tsn_socks, &cookie);
        if (!s) return 0;
    }
    fill_owner(&s->owner, cookie);
    return s;
}

static __always_inline int on_connect(struct bpf_sock_addr* ctx, int v6) {
    if (ctx->protocol != IPPROTO_TCP && ctx->protocol != IPPROTO_UDP) return 1;
    __u64 cookie = bpf_get_socket_cookie(ctx);
    struct tsn_sock* s = touch_sock(ctx, cookie);
    if (!s) return 1;
    // TCP: sockops TCP_CONNECT_CB stores the key with the source port chosen by connect().
    if (ctx->protocol != IPPROTO_UDP) return 1;
    struct bpf_sock* sk = ctx->sk;
    if (!sk) return 1;
    struct tsn_flow_key k = {};
    udp_key_to(ctx, sk, s->netns, v6, &k);
    if (k.sport == 0) {
        // Bound by connect() after this hook. Until the socket closes (and completes the key
        // then), user space finds it through its sock_diag cookie.
        __builtin_memset(k.saddr, 0, sizeof(k.saddr));
        s->key = k;
        s->has_key = 0;
        s->pending = 1;
        return 1;
    }
    s->pending = 0;
    store_flow(&k, s);
    return 1;
}

SEC("cgroup/connect4")
int tsnitch_connect4(struct bpf_sock_addr* ctx) {
    return on_connect(ctx, 0);
}

SEC("cgroup/connect6")
int tsnitch_connect6(struct bpf_sock_addr* ctx) {
    return on_connect(ctx, 1);
}

static __always_inline int on_sendmsg(struct bpf_sock_addr* ctx, int v6) {
    if (ctx->protocol != IPPROTO_UDP) return 1;
    struct bpf_sock* sk = ctx->sk;
    if (!sk) return 1;
    __u64 cookie = bpf_get_socket_cookie(ctx);
    struct tsn_sock* s = touch_sock(ctx, cookie);
    if (!s) return 1;
    struct tsn_flow_key k = {};
    udp_key_to(ctx, sk, s->netns, v6, &k);
    store_flow(&k, s);
    return 1;
}

SEC("cgroup/sendmsg4")
int tsnitch_sendmsg4(struct bpf_sock_addr* ctx) {
    return on_sendmsg(ctx, 0);
}

SEC("cgroup/sendmsg6")
int tsnitch_sendmsg6(struct bpf_sock_addr* ctx) {
    return on_sendmsg(ctx, 1);
}

SEC("sockops")
int tsnitch_sockops(struct bpf_sock_ops* ctx) {
    if (ctx->op != BPF_SOCK_OPS_TCP_CONNECT_CB) return 1;
    __u64 cookie = bpf_get_socket_cookie(ctx);
    struct tsn_sock* s = bpf_map_lookup_elem(&tsn_socks, &cookie);
    if (!s) {
        // connect4/6 records connecting sockets first; not so a socket created before we were
        // loaded and connected without connect() (TCP Fast Open). This runs in the connecting
        // process too.
        struct tsn_sock fresh = {};
        fill_owner(&fresh.owner, cookie);
        fresh.netns = bpf_get_netns_cookie(ctx);
        fresh.protocol = IPPROTO_TCP;
        bpf_map_update_elem(&tsn_socks, &cookie, &fresh, BPF_ANY);
        s = bpf_map_lookup_elem(&tsn_socks, &cookie);
        if (!s) return 1;
    }
    struct tsn_flow_key k = {};
    k.netns = s->netns;
    k.protocol = IPPROTO_TCP;
    k.sport = ctx->local_port;
    k.dport = bpf_ntohl(ctx->remote_port);
    if (ctx->family == AF_INET6) {
        __u32 src[4], dst[4];
        src[0] = ctx->local_ip6[0];
        src[1] = ctx->local_ip6[1];
        src[2] = ctx->local_ip6[2];
        src[3] = ctx->local_ip6[3];
        dst[0] = ctx->remote_ip6[0];
        dst[1] = ctx->remote_ip6[1];
        dst[2] = ctx->remote_ip6[2];
        dst[3] = ctx->remote_ip6[3];
        key_v6(&k, src, dst);
    } else {
        k.family = AF_INET;
        set_v4(k.saddr, ctx->local_ip4);
        set_v4(k.daddr, ctx->remote_ip4);
    }
    store_flow(&k, s);
    return 1;
}

// The socket is gone: forget it, but keep its last flow for a grace period (user space sweeps),
// because its packets may still wait in the queue for a verdict after the process has exited.
SEC("cgroup/sock_release")
int tsnitch_sock_release(struct bpf_sock* ctx) {
    __u64 cookie = bpf_get_socket_cookie(ctx);
    struct tsn_sock* s = bpf_map_lookup_elem(&tsn_socks, &cookie);
    if (!s) return 1;
    if (s->pending) {
        // A connected UDP socket closed while its first packet may still wait in the queue.
        // The ctx hides the source port from this hook; read it from the socket itself.
        __u16 sport = 0;
        struct sock* sk = (struct sock*)ctx;
        bpf_probe_read_kernel(&sport, sizeof(sport), &sk->__sk_common.skc_num);
        if (sport != 0) {
            struct tsn_flow_key pk = s->key;
            pk.sport = sport;
            // The address connect() bound it to: an exact key, so that a later sendto() from
            // the same port (keyed without source address) does not hide this flow.
            if (pk.family == AF_INET) {
                bpf_probe_read_kernel(pk.saddr, 4, &sk->__sk_common.skc_rcv_saddr);
            } else {
                bpf_probe_read_kernel(pk.saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
            }
            s->pending = 0;
            store_flow(&pk, s);
        }
    }
    if (s->has_key) {
        struct tsn_flow_key k = s->key;
        struct tsn_owner* o = bpf_map_lookup_elem(&tsn_flows, &k);
        if (o && o->cookie == cookie) o->released_ns = bpf_ktime_get_boot_ns();
    }
    bpf_map_delete_elem(&tsn_socks, &cookie);
    return 1;
}

// Raw tracepoints attach by name and need no tracefs mount (which not every machine has).
SEC("raw_tp/sched_process_exec")
int tsnitch_exec(struct bpf_raw_tracepoint_args* ctx) {
    // TP_PROTO(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
    struct linux_binprm* bprm = (struct linux_binprm*)ctx->args[2];
    __u32 zero = 0;
    struct tsn_exec* e = bpf_map_lookup_elem(&tsn_exec_scratch, &zero);
    if (!e) return 1;
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    struct task_struct* task = (struct task_struct*)bpf_get_current_task();
    e->exec_ns = bpf_ktime_get_boot_ns();
    e->exit_ns = 0;
    e->ppid = BPF_CORE_READ(task, real_parent, tgid);
    e->inherited = 0;
    // interp is what /proc/PID/exe shows (the interpreter of a script); filename otherwise.
    const char* path = BPF_CORE_READ(bprm, interp);
    if (!path) path = BPF_CORE_READ(bprm, filename);
    if (bpf_probe_read_kernel_str(e->path, sizeof(e->path), path) < 0) e->path[0] = 0;
    bpf_map_update_elem(&tsn_execs, &tgid, e, BPF_ANY);
    return 1;
}

// A forked child runs its parent's program until it execs: give it the parent's entry.
SEC("raw_tp/sched_process_fork")
int tsnitch_fork(struct bpf_raw_tracepoint_args* ctx) {
    // TP_PROTO(struct task_struct *parent, struct task_struct *child)
    struct task_struct* parent = (struct task_struct*)ctx->args[0];
    struct task_struct* child = (struct task_struct*)ctx->args[1];
    __u32 child_pid = BPF_CORE_READ(child, pid);
    __u32 child_tgid = BPF_CORE_READ(child, tgid);
    if (child_pid != child_tgid) return 1;  // a new thread, not a new process
    __u32 parent_tgid = BPF_CORE_READ(parent, tgid);
    struct tsn_exec* pe = bpf_map_lookup_elem(&tsn_execs, &parent_tgid);
    if (!pe) {
        // The parent predates us: nothing to inherit, but an entry left by an earlier process
        // with the same pid must not be taken for this one's.
        bpf_map_delete_elem(&tsn_execs, &child_tgid);
        return 1;
    }
    __u32 zero = 0;
    struct tsn_exec* e = bpf_map_lookup_elem(&tsn_exec_scratch, &zero);
    if (!e) return 1;
    __builtin_memcpy(e->path, pe->path, sizeof(e->path));
    e->exec_ns = bpf_ktime_get_boot_ns();
    e->exit_ns = 0;
    e->ppid = parent_tgid;
    e->inherited = 1;
    bpf_map_update_elem(&tsn_execs, &child_tgid, e, BPF_ANY);
    return 1;
}

// Marks the process gone; user space then no longer trusts what it read from /proc for this pid.
SEC("raw_tp/sched_process_exit")
int tsnitch_exit(struct bpf_raw_tracepoint_args* ctx) {
    (void)ctx;
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tgid = pid_tgid >> 32;
    if ((__u32)pid_tgid != tgid) return 1;  // a thread; the process lives on
    __u64 now = bpf_ktime_get_boot_ns();
    struct tsn_exec* e = bpf_map_lookup_elem(&tsn_execs, &tgid);
    if (e) {
        e->exit_ns = now;
        return 1;
    }
    __u32 zero = 0;
    struct tsn_exec* fresh = bpf_map_lookup_elem(&tsn_exec_scratch, &zero);
    if (!fresh) return 1;
    fresh->exec_ns = 0;
    fresh->exit_ns = now;
    fresh->ppid = 0;
    fresh->inherited = 0;
    fresh->path[0] = 0;
    bpf_map_update_elem(&tsn_execs, &tgid, fresh, BPF_NOEXIST);
    return 1;
}

char LICENSE[] SEC("license") = "GPL";
