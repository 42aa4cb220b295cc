// Structs that cross the kernel boundary: the BPF programs write them into maps, the loader
// reads them. Fixed-width fields, explicit padding, no pointers, so that both compilers (clang
// -target bpf and the C++ compiler) lay them out the same way; the unit tests check the sizes.
#ifndef TSNITCH_BPF_H
#define TSNITCH_BPF_H

#include <linux/types.h>

#define TSN_MAX_FLOWS 32768
#define TSN_MAX_SOCKETS 32768
#define TSN_MAX_EXECS 16384
#define TSN_PATH_MAX 256
#define TSN_COMM_LEN 16

// An executable as the kernel names it: the inode of the running task's mm->exe_file. dev is the
// kernel's form (major<<20|minor); generation (i_generation) tells a reused inode number apart,
// so that a replaced binary is a new identity.
struct tsn_exe_id {
    __u64 ino;
    __u32 dev;
    __u32 generation;
};

// The packet's view of a flow. IPv4 addresses sit in the first 4 bytes of saddr/daddr (network
// order) with family AF_INET; an IPv4 peer of a dual-stack socket (::ffff:a.b.c.d) is stored as
// AF_INET, because that is what the packet on the wire shows. Ports in host order.
struct tsn_flow_key {
    __u64 netns;    // network namespace cookie
    __u8 protocol;  // IPPROTO_TCP, IPPROTO_UDP
    __u8 family;    // AF_INET, AF_INET6
    __u16 sport;
    __u16 dport;
    __u16 pad;
    __u8 saddr[16];  // all zero when the socket is not bound to an address
    __u8 daddr[16];
};

// Who used a socket last (connect, sendmsg, or creation when nothing else happened yet).
struct tsn_owner {
    __u64 cookie;       // socket cookie (the one sock_diag reports)
    __u64 time_ns;      // bpf_ktime_get_boot_ns() when recorded
    __u64 released_ns;  // when the socket was closed; 0 while it lives
    __u32 tgid;         // the process (what user space calls pid)
    __u32 pid;          // the thread
    __u32 uid;
    __u32 gid;
    char comm[TSN_COMM_LEN];
};

// Per-socket state, keyed by the socket cookie.
struct tsn_sock {
    struct tsn_owner owner;
    struct tsn_flow_key key;  // the last flow stored for it (marked released at close)
    __u64 netns;
    __u8 has_key;
    __u8 pending;   // connected UDP whose source port was not bound yet at connect()
    __u8 protocol;  // IPPROTO_*
    __u8 pad[5];
};

// What exec left behind for a process (tgid): the program's path, kept after it exits.
struct tsn_exec {
    __u64 exec_ns;  // bpf_ktime_get_boot_ns() at exec (or at fork for inherited entries)
    __u64 exit_ns;  // 0 while the process lives
    __u32 ppid;
    __u32 inherited;  // 1: copied from the parent at fork (the child has not exec'd)
    char path[TSN_PATH_MAX];
};

#endif
