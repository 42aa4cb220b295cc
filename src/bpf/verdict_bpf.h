// Structs of the kernel path (DESIGN.md §8a) that cross the kernel boundary: verdict.bpf.c reads
// and writes them in its maps, src/bpf/kernel_verdicts.cpp fills and reads them. Same rules as
// tsnitch_bpf.h: fixed-width fields, explicit padding, sizes checked by the unit tests.
#ifndef TSNITCH_VERDICT_BPF_H
#define TSNITCH_VERDICT_BPF_H

#include <linux/types.h>

#include "tsnitch_bpf.h"

#define TSN_MAX_VERDICTS 16384
#define TSN_MAX_SKIPS 65536
#define TSN_MAX_FLOW_EXES 32768
#define TSN_RING_BYTES (1024 * 1024)  // some 8,700 records

// Actions as the kernel path stores them. TSN_ACT_NOTE is no decision: the socket's first packet
// is to record the executable that sent it (tsn_flow_exes, or for TCP with tcp_keys the flow's
// owner in tsn_flows) and then go to the queue.
#define TSN_ACT_ALLOW 0
#define TSN_ACT_DENY 1
#define TSN_ACT_REJECT 2
#define TSN_ACT_NOTE 3

// What user space tells the programs (the only element of tsn_kconfig).
struct tsn_kconfig {
    __u64 netns;       // tsnitch's own network namespace cookie: nothing outside it is touched
    __u32 epoch;       // verdicts of another epoch are stale (any rule change bumps it)
    __u32 enabled;     // 0: the programs only pass through
    __u32 wake_bytes;  // records waiting in the ring that wake its reader early; 0: never
    __u32 tcp_keys;    // 1: tsn_pass files the flow key of each SYN it does not pass (not sockops)
};

// A decision user space made, for every new flow of this executable and user to this place.
// Addresses as in tsn_flow_key: IPv4 in the first 4 bytes, v4-mapped IPv6 stored as IPv4.
struct tsn_verdict_key {
    struct tsn_exe_id exe;
    __u32 uid;
    __u8 protocol;  // IPPROTO_TCP, IPPROTO_UDP
    __u8 family;    // AF_INET, AF_INET6
    __u16 dport;    // host order
    __u8 daddr[16];
};

struct tsn_verdict {
    __u64 expires_ns;  // CLOCK_BOOTTIME; 0: until the epoch ends
    __u32 epoch;
    __u32 rule_id;  // user space's number for the rule that decided
    __u8 action;    // TSN_ACT_ALLOW, _DENY, _REJECT
    __u8 pad[7];
};

// One kernel-path decision, for the event log (the ring buffer tsn_decisions).
struct tsn_decision {
    __u64 time_ns;  // CLOCK_BOOTTIME
    __u64 cookie;   // the socket's
    struct tsn_exe_id exe;
    __u32 tgid;
    __u32 pid;
    __u32 uid;
    __u32 rule_id;
    __u32 epoch;
    __u8 action;
    __u8 protocol;
    __u8 family;
    __u8 pad;
    __u16 sport;  // 0 when not bound yet (a rejected connect)
    __u16 dport;
    __u8 saddr[16];
    __u8 daddr[16];
    char comm[TSN_COMM_LEN];
};

// The packet-side key of tsn_skips: this socket's packets to this destination (unconnected UDP
// has one per destination it sent to; a connected socket keeps its one in its tsn_socks entry
// instead, and has a key here only when the attribution module has no entry for it).
struct tsn_skip_key {
    __u64 cookie;
    __u8 protocol;
    __u8 family;
    __u16 dport;
    __u32 pad;
    __u8 daddr[16];
};

// What connect/sendmsg decided for a socket's packets to one destination; the pinned socket
// filters (xt_bpf) read it for every new packet before the NFQUEUE rule.
struct tsn_skip {
    struct tsn_decision record;  // the event, completed from the packet when it is logged
    __u64 expires_ns;
    __u32 epoch;
    __u32 logged;  // 1: the record went to the ring buffer (once per entry; 32 bits for cmpxchg)
    __u8 action;   // TSN_ACT_ALLOW, _DENY, _REJECT or _NOTE
    __u8 pad[7];
};

// The executable and user behind a queued flow, as the kernel saw them (keyed by the packet's
// tsn_flow_key): user space stores its decision under this identity.
struct tsn_flow_exe {
    struct tsn_exe_id exe;
    __u32 uid;
    __u32 tgid;
};

#endif
