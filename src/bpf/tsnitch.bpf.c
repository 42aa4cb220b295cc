// SPDX-License-Identifier: GPL-2.0
// Kernel side of tsnitch's attribution (DESIGN.md §7): remember which process used each socket and
// under which flow the packets will show up, so that user space can name the owner of a packet
// even when the process is already gone. Every program returns 1 (allow): it only observes; the
// decisions are made in user space through NFQUEUE. Each socket program first checks that the
// socket lives in tsnitch's network namespace (tsn_netns_cookie) and ignores every other one.
//
// Where each flow key comes from:
//   TCP            sockops TCP_CONNECT_CB (both ports and addresses are known there); the owner
//                  was recorded by connect4/6 a moment earlier in the same syscall. While the
//                  kernel path runs, its xt_bpf program files the key from each SYN that goes
//                  on to the queue instead (verdict.bpf.c, in these maps; one the kernel path
//                  passes needs none) and user space detaches sockops.
//   UDP sendto     sendmsg4/6 (destination in the ctx, source port bound by then).
//   connected UDP  connect4/6 records the owner and, when the source port is already bound, the
//                  key; every send() on it then passes raw_tp/sys_enter, which names the sending
//                  process (a child after fork, another thread) and completes the key: a
//                  connected send runs no cgroup sendmsg hook.
//   ICMP, ICMPv6   raw and ping sockets: raw_tp/sys_enter, from the destination of the
//                  sendto/sendmsg/sendmmsg or the connected peer.
// Who the process is: sched_process_exec records an image per exec (executable identity, path
// as the kernel names it, argv), fork hands the parent's image on, and every owner record names
// the image its process ran when it used the socket, so an exec after a send changes nothing.
#include <linux/bpf.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "attribution_maps.bpf.h"
#include "exe_identity.bpf.h"
#include "tsnitch_bpf.h"

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_ICMP 1
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define IPPROTO_ICMPV6 58
#define IPPROTO_UDPLITE 136
#define S_IFMT 00170000
#define S_IFSOCK 0140000
#define TCP_ESTABLISHED 1

// Set by the loader before loading: the namespace tsnitch runs in (0: every namespace, for
// `tsnitch check`), and the device of its root directory, so that a path walk can tell a host
// path from one inside another mount namespace.
const volatile __u64 tsn_netns_cookie = 0;
const volatile __u32 tsn_root_dev = 0;
// tsnitch's own process: its sends (a verdict per queued packet, event lines, control messages)
// are nothing it attributes, so raw_tp/sys_enter leaves them at once (0: none).
const volatile __u32 tsn_self_tgid = 0;

// Only the fields we read; CO-RE relocates them against the running kernel's BTF.
struct qstr {
    const unsigned char* name;
} __attribute__((preserve_access_index));

struct hlist_bl_node {
    void* next;
    void* pprev;
} __attribute__((preserve_access_index));

struct inode {
    unsigned short i_mode;
    unsigned long i_ino;
    struct super_block___tsn_exe* i_sb;
} __attribute__((preserve_access_index));

struct dentry;

struct super_block {
    __u32 s_dev;
    struct dentry* s_root;
} __attribute__((preserve_access_index));

struct dentry {
    struct hlist_bl_node d_hash;
    struct dentry* d_parent;
    struct qstr d_name;
    struct super_block* d_sb;
} __attribute__((preserve_access_index));

struct vfsmount {
    struct dentry* mnt_root;
} __attribute__((preserve_access_index));

struct mount {
    struct mount* mnt_parent;
    struct dentry* mnt_mountpoint;
    struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
    struct vfsmount* mnt;
    struct dentry* dentry;
} __attribute__((preserve_access_index));

struct file {
    struct path f_path;
    struct inode* f_inode;
    void* private_data;
} __attribute__((preserve_access_index));

struct fdtable {
    unsigned int max_fds;
    struct file** fd;
} __attribute__((preserve_access_index));

struct files_struct {
    struct fdtable* fdt;
} __attribute__((preserve_access_index));

struct mm_struct {
    struct file* exe_file;
    unsigned long arg_start;
    unsigned long arg_end;
} __attribute__((preserve_access_index));

struct task_struct {
    int pid;
    int tgid;
    struct task_struct* real_parent;
    struct mm_struct* mm;
    struct files_struct* files;
} __attribute__((preserve_access_index));

struct in6_addr___tsn {
    __u32 words[4];
};

struct net {
    __u64 net_cookie;
} __attribute__((preserve_access_index));

typedef struct {
    struct net* net;
} possible_net_t;

typedef struct {
    __s64 counter;
} atomic64_t___tsn;

struct sock_common {
    __u32 skc_daddr;      // the connected peer's IPv4 address, network order
    __u32 skc_rcv_saddr;  // the bound local IPv4 address, network order
    __u16 skc_dport;      // the connected peer's port, network order
    __u16 skc_num;        // the bound local port, host order
    unsigned short skc_family;
    volatile unsigned char skc_state;
    possible_net_t skc_net;
    struct in6_addr___tsn skc_v6_daddr;
    struct in6_addr___tsn skc_v6_rcv_saddr;
    atomic64_t___tsn skc_cookie;
} __attribute__((preserve_access_index));

struct sock {
    struct sock_common __sk_common;
    __u16 sk_protocol;
    __u16 sk_type;
} __attribute__((preserve_access_index));

struct socket {
    struct sock* sk;
} __attribute__((preserve_access_index));

// The registers of the syscall (x86-64 calling convention: di, si, dx, r10, r8, r9).
struct pt_regs {
    unsigned long di;
    unsigned long si;
    unsigned long dx;
    unsigned long r10;
    unsigned long r8;
} __attribute__((preserve_access_index));

struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TSN_MAX_IMAGES);
    __type(key, struct tsn_image_key);
    __type(value, struct tsn_image);
} tsn_images SEC(".maps");

// The state of a socket that has no cookie (it predates tsnitch and no dump named it: ICMP and
// raw sockets are in no table seeding reads): filled per send and never kept, only its flows are.
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct tsn_sock);
} tsn_uncookied SEC(".maps");

// Scratch space: struct tsn_image is far too large for the 512-byte stack.
struct {
    __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
    __uint(max_entries, 1);
    __type(key, __u32);
    __type(value, struct tsn_image);
} tsn_image_scratch SEC(".maps");

static __always_inline int other_netns(__u64 netns) {
    return tsn_netns_cookie != 0 && netns != tsn_netns_cookie;
}

static __always_inline void fill_owner(struct tsn_owner* o, __u64 cookie) {
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u64 uid_gid = bpf_get_current_uid_gid();
    __u32 tgid = pid_tgid >> 32;
    o->cookie = cookie;
    o->time_ns = bpf_ktime_get_boot_ns();
    o->released_ns = 0;
    o->tgid = tgid;
    o->pid = (__u32)pid_tgid;
    o->uid = (__u32)uid_gid;
    o->gid = uid_gid >> 32;
    bpf_get_current_comm(o->comm, sizeof(o->comm));
    struct tsn_proc* p = bpf_map_lookup_elem(&tsn_procs, &tgid);
    tsn_exe_id_of(&o->exe, p);
    if (p) {
        o->image = p->image;
    } else {
        o->image.exec_ns = 0;
        o->image.tgid = 0;
    }
    o->image.pad = 0;
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

static __always_inline int attributed_protocol(__u32 p) {
    return p == IPPROTO_TCP || p == IPPROTO_UDP || p == IPPROTO_UDPLITE || p == IPPROTO_ICMP ||
           p == IPPROTO_ICMPV6;
}

SEC("cgroup/sock_create")
int tsnitch_sock_create(struct bpf_sock* ctx) {
    if (!attributed_protocol(ctx->protocol)) return 1;
    __u64 netns = bpf_get_netns_cookie(ctx);
    if (other_netns(netns)) return 1;
    struct tsn_sock s = {};
    __u64 cookie = bpf_get_socket_cookie(ctx);
    fill_owner(&s.owner, cookie);
    s.netns = netns;
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
        if (other_netns(fresh.netns)) return 0;
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
        fresh.netns = bpf_get_netns_cookie(ctx);
        if (other_netns(fresh.netns)) return 1;
        fill_owner(&fresh.owner, cookie);
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
    // Every socket of the machine ends here: one of another namespace is none of ours, and
    // asking for its cookie would make the kernel give it one.
    if (other_netns(bpf_get_netns_cookie(ctx))) return 1;
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

// ---- The sending process: raw_tp/sys_enter ----------------------------------------------------
// No cgroup hook runs for a send() on a connected UDP socket or for any ICMP send, and kprobes
// and fentry are not available here; the syscall entry is the one place that sees the sender
// before its packet reaches the OUTPUT hook. It costs a compare for every other syscall.

#define TSN_NR_WRITE 1
#define TSN_NR_WRITEV 20
#define TSN_NR_SENDTO 44
#define TSN_NR_SENDMSG 46
#define TSN_NR_SENDMMSG 307
#define TSN_MMSG_MAX 8       // destinations looked at per sendmmsg
#define TSN_MMSGHDR_SIZE 64  // sizeof(struct mmsghdr) on 64-bit

// The socket behind the current task's fd, or 0 when the fd is not a socket.
static __always_inline struct sock* sock_of_fd(long fd) {
    if (fd < 0) return 0;
    struct task_struct* task = (struct task_struct*)bpf_get_current_task();
    struct fdtable* fdt = BPF_CORE_READ(task, files, fdt);
    if (!fdt) return 0;
    unsigned int max = BPF_CORE_READ(fdt, max_fds);
    if ((unsigned long)fd >= max) return 0;
    struct file** fds = BPF_CORE_READ(fdt, fd);
    struct file* f = 0;
    if (bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]) != 0 || !f) return 0;
    unsigned short mode = BPF_CORE_READ(f, f_inode, i_mode);
    if ((mode & S_IFMT) != S_IFSOCK) return 0;
    struct socket* sock = (struct socket*)BPF_CORE_READ(f, private_data);
    if (!sock) return 0;
    return BPF_CORE_READ(sock, sk);
}

// The flow of a connected socket as its packets will show it.
static __always_inline void connected_key(struct sock* sk, __u64 netns, __u8 protocol,
                                          struct tsn_flow_key* k) {
    k->netns = netns;
    k->protocol = protocol;
    if (BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET) {
        k->family = AF_INET;
        set_v4(k->saddr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
        set_v4(k->daddr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
    } else {
        struct in6_addr___tsn src = BPF_CORE_READ(sk, __sk_common.skc_v6_rcv_saddr);
        struct in6_addr___tsn dst = BPF_CORE_READ(sk, __sk_common.skc_v6_daddr);
        key_v6(k, src.words, dst.words);
    }
}

// An ICMP flow towards the sockaddr at `uaddr` (user memory); ICMP flows carry no ports and are
// stored without a source address.
static __always_inline void store_icmp_to(const void* uaddr, __u64 netns, __u8 protocol,
                                          struct tsn_sock* s) {
    __u32 buf[6] = {};  // sockaddr_in6 up to the address: family, port, flowinfo, addr
    if (bpf_probe_read_user(buf, sizeof(buf), uaddr) != 0) return;
    struct tsn_flow_key k = {};
    k.netns = netns;
    k.protocol = protocol;
    __u16 family = (__u16)buf[0];
    if (family == AF_INET) {
        k.family = AF_INET;
        set_v4(k.daddr, buf[1]);
    } else if (family == AF_INET6) {
        __u32 zero[4] = {};
        key_v6(&k, zero, &buf[2]);
        __builtin_memset(k.saddr, 0, sizeof(k.saddr));
    } else {
        return;
    }
    store_flow(&k, s);
}

SEC("raw_tp/sys_enter")
int tsnitch_sys_enter(struct bpf_raw_tracepoint_args* ctx) {
    // TP_PROTO(struct pt_regs *regs, long id)
    // write(2) and writev(2) too: a connected UDP socket can be written to. Looking at each
    // write's file costs little next to the tracepoint itself (bench/syscall_cost.py).
    long nr = (long)ctx->args[1];
    if (nr != TSN_NR_SENDTO && nr != TSN_NR_SENDMSG && nr != TSN_NR_SENDMMSG &&
        nr != TSN_NR_WRITE && nr != TSN_NR_WRITEV)
        return 0;
    if (tsn_self_tgid != 0 && (bpf_get_current_pid_tgid() >> 32) == tsn_self_tgid) return 0;
    struct pt_regs* regs = (struct pt_regs*)ctx->args[0];
    struct sock* sk = sock_of_fd((long)(int)BPF_CORE_READ(regs, di));
    if (!sk) return 0;
    __u8 protocol = (__u8)BPF_CORE_READ(sk, sk_protocol);
    int icmp = protocol == IPPROTO_ICMP || protocol == IPPROTO_ICMPV6;
    if (!icmp && protocol != IPPROTO_UDP && protocol != IPPROTO_UDPLITE) return 0;
    __u64 netns = BPF_CORE_READ(sk, __sk_common.skc_net.net, net_cookie);
    if (other_netns(netns)) return 0;
    // Generated by sock_create's bpf_get_socket_cookie (or by sock_diag when seeding). A socket
    // without one predates tsnitch and was never seen: its sender is named all the same, from a
    // per-send scratch state (no socket entry, cookie 0), since the send is what tells who it is.
    __u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
    struct tsn_sock* s = 0;
    if (cookie == 0) {
        __u32 zero = 0;
        s = bpf_map_lookup_elem(&tsn_uncookied, &zero);
        if (!s) return 0;
        __builtin_memset(s, 0, sizeof(*s));
        s->netns = netns;
        s->protocol = protocol;
    } else {
        s = bpf_map_lookup_elem(&tsn_socks, &cookie);
    }
    if (!s) {
        struct tsn_sock fresh = {};
        fresh.netns = netns;
        fresh.protocol = protocol;
        bpf_map_update_elem(&tsn_socks, &cookie, &fresh, BPF_ANY);
        s = bpf_map_lookup_elem(&tsn_socks, &cookie);
        if (!s) return 0;
    }
    fill_owner(&s->owner, cookie);
    const int connected = BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_ESTABLISHED;
    if (!icmp) {
        // Unconnected sends are keyed by sendmsg4/6, which runs later in this syscall.
        if (!connected) return 0;
        struct tsn_flow_key k = {};
        connected_key(sk, netns, protocol, &k);
        k.sport = BPF_CORE_READ(sk, __sk_common.skc_num);
        k.dport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
        if (k.sport == 0) return 0;
        s->pending = 0;
        store_flow(&k, s);
        return 0;
    }
    const void* dest = 0;
    if (nr == TSN_NR_SENDTO) {
        dest = (const void*)BPF_CORE_READ(regs, r8);
    } else if (nr == TSN_NR_SENDMSG) {
        const void* msg = (const void*)BPF_CORE_READ(regs, si);
        bpf_probe_read_user(&dest, sizeof(dest), msg);  // msg_name comes first
    } else if (nr == TSN_NR_SENDMMSG) {
        const char* vec = (const char*)BPF_CORE_READ(regs, si);
        const unsigned int vlen = (unsigned int)BPF_CORE_READ(regs, dx);
        for (unsigned int i = 0; i < TSN_MMSG_MAX && i < vlen; i++) {
            const void* name = 0;
            bpf_probe_read_user(&name, sizeof(name), vec + i * TSN_MMSGHDR_SIZE);
            if (name) store_icmp_to(name, netns, protocol, s);
        }
        if (vlen > 0) return 0;
    }
    if (dest) {
        store_icmp_to(dest, netns, protocol, s);
    } else if (connected) {
        struct tsn_flow_key k = {};
        connected_key(sk, netns, protocol, &k);
        __builtin_memset(k.saddr, 0, sizeof(k.saddr));
        store_flow(&k, s);
    }
    return 0;
}

// ---- Processes and their images ---------------------------------------------------------------

// One step of the path walk (a bpf_loop callback: the verifier checks it once, not once per
// iteration).
struct path_walk {
    struct tsn_image* img;
    struct dentry* d;
    struct mount* m;
    __u32 depth;
};

static long path_step(__u32 index, void* ctx) {
    (void)index;
    struct path_walk* w = ctx;
    struct tsn_image* img = w->img;
    struct dentry* d = w->d;
    struct mount* m = w->m;
    if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
        // tsnitch's root: the top of the file system it sees as "/" (stat names its device;
        // the inode number stat reports may be another layer's on overlayfs).
        if (BPF_CORE_READ(d, d_sb, s_dev) == tsn_root_dev && BPF_CORE_READ(d, d_sb, s_root) == d) {
            img->complete = 1;
            img->reachable = 1;
            return 1;
        }
        struct mount* parent = BPF_CORE_READ(m, mnt_parent);
        if (parent == m) {
            // The top of another mount tree: a container's root, never a host path.
            img->complete = 1;
            return 1;
        }
        w->d = BPF_CORE_READ(m, mnt_mountpoint);
        w->m = parent;
        return 0;
    }
    if (w->depth >= TSN_PATH_DEPTH) return 1;  // deeper than recorded: incomplete
    struct dentry* up = BPF_CORE_READ(d, d_parent);
    const unsigned char* name = BPF_CORE_READ(d, d_name.name);
    long n =
        bpf_probe_read_kernel_str(img->comp[w->depth & (TSN_PATH_DEPTH - 1)], TSN_NAME_MAX, name);
    if (n <= 0 || n >= TSN_NAME_MAX) return 1;  // unreadable or cut: incomplete
    w->depth++;
    if (up == d) {
        // The root of a tree that no mount shows: a file of an internal mount (memfd).
        img->pseudo = 1;
        img->complete = 1;
        return 1;
    }
    w->d = up;
    return 0;
}

// The path of `f` as the kernel names it: its dentries up to the root, crossing mounts, leaf
// first. Whether the root reached is tsnitch's own tells a host path from a path inside another
// mount namespace (a container), which must never be matched as a host path.
static __always_inline void record_path(struct tsn_image* img, struct file* f) {
    img->depth = 0;
    img->complete = 0;
    img->reachable = 0;
    img->unlinked = 0;
    img->pseudo = 0;
    if (!f) return;
    struct dentry* d = BPF_CORE_READ(f, f_path.dentry);
    struct vfsmount* vm = BPF_CORE_READ(f, f_path.mnt);
    if (!d || !vm) return;
    if (BPF_CORE_READ(d, d_hash.pprev) == 0 && BPF_CORE_READ(d, d_parent) != d) img->unlinked = 1;
    struct path_walk w = {};
    w.img = img;
    w.d = d;
    w.m = (struct mount*)((char*)vm - bpf_core_field_offset(struct mount, mnt));
    // Every component, plus a crossing per mount on the way.
    bpf_loop(TSN_PATH_DEPTH * 2, path_step, &w, 0);
    img->depth = w.depth;
}

static __always_inline void record_args(struct tsn_image* img, struct task_struct* task) {
    unsigned long start = BPF_CORE_READ(task, mm, arg_start);
    unsigned long end = BPF_CORE_READ(task, mm, arg_end);
    __u64 len = end > start ? end - start : 0;
    img->args_truncated = len > TSN_ARGS_MAX;
    if (len > TSN_ARGS_MAX) len = TSN_ARGS_MAX;
    img->args_len = 0;
    if (len > 0 && bpf_probe_read_user(img->args, len, (const void*)start) == 0) {
        img->args_len = len;
    }
}

// Raw tracepoints attach by name and need no tracefs mount (which not every machine has).
SEC("raw_tp/sched_process_exec")
int tsnitch_exec(struct bpf_raw_tracepoint_args* ctx) {
    (void)ctx;  // current is the task, with its new mm, exe_file and argv
    __u32 zero = 0;
    struct tsn_image* img = bpf_map_lookup_elem(&tsn_image_scratch, &zero);
    if (!img) return 0;
    __u32 tgid = bpf_get_current_pid_tgid() >> 32;
    struct task_struct* task = (struct task_struct*)bpf_get_current_task();
    const __u64 now = bpf_ktime_get_boot_ns();
    img->exec_ns = now;
    img->tgid = tgid;
    img->ppid = BPF_CORE_READ(task, real_parent, tgid);
    tsn_current_exe_id(&img->exe);
    record_path(img, BPF_CORE_READ(task, mm, exe_file));
    record_args(img, task);
    struct tsn_image_key key = {};
    key.exec_ns = now;
    key.tgid = tgid;
    bpf_map_update_elem(&tsn_images, &key, img, BPF_ANY);
    struct tsn_proc p = {};
    p.image = key;
    p.ppid = img->ppid;
    p.exe = img->exe;
    bpf_map_update_elem(&tsn_procs, &tgid, &p, BPF_ANY);
    return 0;
}

// A forked child runs its parent's image until it execs.
SEC("raw_tp/sched_process_fork")
int tsnitch_fork(struct bpf_raw_tracepoint_args* ctx) {
    // TP_PROTO(struct task_struct *parent, struct task_struct *child)
    struct task_struct* parent = (struct task_struct*)ctx->args[0];
    struct task_struct* child = (struct task_struct*)ctx->args[1];
    __u32 child_pid = BPF_CORE_READ(child, pid);
    __u32 child_tgid = BPF_CORE_READ(child, tgid);
    if (child_pid != child_tgid) return 0;  // a new thread, not a new process
    __u32 parent_tgid = BPF_CORE_READ(parent, tgid);
    struct tsn_proc* pp = bpf_map_lookup_elem(&tsn_procs, &parent_tgid);
    if (!pp) {
        // The parent is unknown: nothing to inherit, but an entry left by an earlier process
        // with the same pid must not be taken for this one's.
        bpf_map_delete_elem(&tsn_procs, &child_tgid);
        return 0;
    }
    struct tsn_proc c = {};
    c.image = pp->image;
    c.ppid = parent_tgid;
    c.forked = 1;
    c.exe = pp->exe;
    bpf_map_update_elem(&tsn_procs, &child_tgid, &c, BPF_ANY);
    return 0;
}

// Marks the process gone; user space then no longer trusts what it read from /proc for this pid.
SEC("raw_tp/sched_process_exit")
int tsnitch_exit(struct bpf_raw_tracepoint_args* ctx) {
    (void)ctx;
    __u64 pid_tgid = bpf_get_current_pid_tgid();
    __u32 tgid = pid_tgid >> 32;
    if ((__u32)pid_tgid != tgid) return 0;  // a thread; the process lives on
    const __u64 now = bpf_ktime_get_boot_ns();
    struct tsn_proc* p = bpf_map_lookup_elem(&tsn_procs, &tgid);
    if (p) {
        p->exit_ns = now;
        return 0;
    }
    struct tsn_proc gone = {};
    gone.exit_ns = now;
    bpf_map_update_elem(&tsn_procs, &tgid, &gone, BPF_NOEXIST);
    return 0;
}

char LICENSE[] SEC("license") = "GPL";
