// Structs that cross the kernel boundary: the BPF programs write them into maps, the loader
// reads them. Fixed-width fields, explicit padding, no pointers, so that both compilers (clang
// -target bpf and the C++ compiler) lay them out the same way; the unit tests check the sizes.
#ifndef TSNITCH_BPF_H
#define TSNITCH_BPF_H

#include <linux/types.h>

#define TSN_MAX_FLOWS 32768
#define TSN_MAX_SOCKETS 32768
#define TSN_MAX_PROCS 16384
#define TSN_MAX_IMAGES 4096
#define TSN_COMM_LEN 16
#define TSN_PATH_DEPTH 16  // path components recorded per executable (leaf first)
#define TSN_NAME_MAX 64    // bytes per component, NUL included
#define TSN_ARGS_MAX 512   // bytes of argv recorded at exec (NUL-separated)

// The packet's view of a flow. IPv4 addresses sit in the first 4 bytes of saddr/daddr (network
// order) with family AF_INET; an IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) is stored as
// AF_INET, because that is what the packet on the wire shows. Ports in host order; ICMP and
// ICMPv6 flows have both ports and the source address zero.
struct tsn_flow_key {
    __u64 netns;    // network namespace cookie
    __u8 protocol;  // IPPROTO_TCP, IPPROTO_UDP, IPPROTO_UDPLITE, IPPROTO_ICMP, IPPROTO_ICMPV6
    __u8 family;    // AF_INET, AF_INET6
    __u16 sport;
    __u16 dport;
    __u16 pad;
    __u8 saddr[16];  // all zero when the socket is not bound to an address
    __u8 daddr[16];
};

// An executable as the kernel knows it: the inode of the running task's mm->exe_file. dev is the
// kernel's form (major << 20 | minor); generation (inode->i_generation) tells a reused inode
// number apart; path names the path it was reached by (exe_identity.bpf.h: tsn_path_id; one
// inode has several with hard links and bind mounts), 0 when unknown. Shared with the kernel
// verdict cache, which keys on it: a rule on process.path decides per path.
struct tsn_exe_id {
    __u64 ino;
    __u32 dev;
    __u32 generation;
    __u64 path;
};

// One program image: what a process (tgid) ran from one exec on. exec_ns 0 names no image.
struct tsn_image_key {
    __u64 exec_ns;  // bpf_ktime_get_boot_ns() at exec
    __u32 tgid;     // the process that exec'd
    __u32 pad;
};

// Who used a socket last (connect, send, or creation when nothing else happened yet), and what
// it ran at that moment.
struct tsn_owner {
    __u64 cookie;       // socket cookie (the one sock_diag reports)
    __u64 time_ns;      // bpf_ktime_get_boot_ns() when recorded
    __u64 released_ns;  // when the socket was closed; 0 while it lives
    __u32 tgid;         // the process (what user space calls pid)
    __u32 pid;          // the thread
    __u32 uid;
    __u32 gid;
    char comm[TSN_COMM_LEN];
    struct tsn_exe_id exe;       // all zero when the task had no mm (kernel thread)
    struct tsn_image_key image;  // exec_ns 0: the process's image was not recorded
};

// Room in a socket's entry for the kernel path's decision about its connected destination
// (verdict_bpf.h: struct tsn_skip, which verdict.bpf.c checks fits), so that connect4/6 writes it
// in place instead of a map update of its own (an LRU update costs some 550 ns here).
#define TSN_SOCK_VERDICT_WORDS 18

// Per-socket state, keyed by the socket cookie.
struct tsn_sock {
    struct tsn_owner owner;
    struct tsn_flow_key key;  // the last flow stored for it (marked released at close)
    __u64 netns;
    __u8 has_key;
    __u8 pending;   // connected UDP whose source port was not bound yet at connect()
    __u8 protocol;  // IPPROTO_*
    __u8 pad[5];
    // The kernel path's struct tsn_skip for the destination connect() gave it; all zero when there
    // is none (its record.cookie is then not the socket's).
    __u64 verdict[TSN_SOCK_VERDICT_WORDS];
};

// The owner of a recently filed flow key (struct tsn_recent in the memory-mapped array
// tsn_recent, slot tsn_recent_slot(key)): what the queue's readers look up without a system
// call. tsn_flows stays the record; a slot holds the last key filed into it, so a reader that
// finds another key there asks tsn_flows. seq is odd while a program writes the slot; a reader
// takes the slot only when seq is even and the same before and after its copy.
#define TSN_RECENT_SLOTS 4096  // a power of two

struct tsn_recent {
    __u32 seq;
    __u32 pad;
    struct tsn_flow_key key;
    struct tsn_owner owner;
};

// The slot of `k`: from the ports, protocol and destination only, so that a flow's key with and
// without its source address share it.
static inline __u32 tsn_recent_slot(const struct tsn_flow_key* k) {
    const __u32 d0 = (__u32)k->daddr[0] | (__u32)k->daddr[1] << 8 | (__u32)k->daddr[2] << 16 |
                     (__u32)k->daddr[3] << 24;
    const __u32 d3 = (__u32)k->daddr[12] | (__u32)k->daddr[13] << 8 | (__u32)k->daddr[14] << 16 |
                     (__u32)k->daddr[15] << 24;
    __u32 h = ((__u32)k->sport << 16 | k->dport) * 0x9e3779b1u;
    h ^= (d0 ^ d3 * 0x85ebca6bu) * 0xc2b2ae35u;
    h ^= k->protocol;
    h ^= h >> 15;
    h *= 0x2c1b3c6du;
    h ^= h >> 12;
    return h & (TSN_RECENT_SLOTS - 1);
}

// A process (tgid) and the image it runs now.
struct tsn_proc {
    struct tsn_image_key image;  // exec_ns 0: unknown (started before loading, not seeded)
    __u64 exit_ns;               // 0 while the process lives
    __u32 ppid;
    __u32 forked;  // 1: the image is the parent's (forked, no exec since)
    // The executable as exec left it (tsn_current_exe_id there; a fork's is its parent's), so
    // that the hooks of each connect need not walk its path again. All zero when exec was not
    // seen (seeded from /proc, or started before loading).
    struct tsn_exe_id exe;
};

// What exec left behind: the executable's identity, its path as the kernel names it (the
// dentries of mm->exe_file up to the root, crossing mounts), and the first bytes of argv.
struct tsn_image {
    struct tsn_exe_id exe;
    __u64 exec_ns;
    __u32 tgid;
    __u32 ppid;
    __u32 args_len;        // bytes in args
    __u32 args_truncated;  // 1: argv was longer than TSN_ARGS_MAX
    __u8 depth;            // components in comp
    __u8 complete;         // 1: the walk reached a root within TSN_PATH_DEPTH components
    __u8 reachable;        // 1: ... and that root is tsnitch's own root (a host path)
    __u8 unlinked;         // 1: the file was removed (the kernel then says " (deleted)")
    __u8 pseudo;           // 1: a file of no mounted tree (memfd): the kernel names it /NAME
    __u8 pad[3];
    char comp[TSN_PATH_DEPTH][TSN_NAME_MAX];  // leaf first
    char args[TSN_ARGS_MAX];
};

#endif
