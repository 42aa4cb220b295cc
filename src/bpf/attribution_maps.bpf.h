// SPDX-License-Identifier: GPL-2.0
// The attribution module's flow, socket, process and recent-owner maps and how a flow is filed in
// them, defined once: tsnitch.bpf.c fills them, and the kernel path's verdict.bpf.c declares the
// same maps so that user space can hand it their descriptors (bpf_map__reuse_fd) and its xt_bpf
// program files the TCP flow keys there (store_flow, as sockops does).
#ifndef TSNITCH_ATTRIBUTION_MAPS_BPF_H
#define TSNITCH_ATTRIBUTION_MAPS_BPF_H

#include "tsnitch_bpf.h"

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

// The processes exec and fork made, by tgid: their image, and their executable's identity for
// the kernel path's lookups.
struct {
    __uint(type, BPF_MAP_TYPE_LRU_HASH);
    __uint(max_entries, TSN_MAX_PROCS);
    __type(key, __u32);
    __type(value, struct tsn_proc);
} tsn_procs SEC(".maps");

// The owners of the latest keys, for the queue's readers to read without a system call
// (tsnitch_bpf.h, struct tsn_recent).
struct {
    __uint(type, BPF_MAP_TYPE_ARRAY);
    __uint(map_flags, BPF_F_MMAPABLE);
    __uint(max_entries, TSN_RECENT_SLOTS);
    __type(key, __u32);
    __type(value, struct tsn_recent);
} tsn_recent SEC(".maps");

// Writes `k` and its owner into its slot of tsn_recent. A slot another CPU writes at this moment
// is left to it: the slot is only a cache, tsn_flows has the key.
static __always_inline void remember_recent(const struct tsn_flow_key* k,
                                            const struct tsn_owner* o) {
    __u32 i = tsn_recent_slot(k);
    struct tsn_recent* r = bpf_map_lookup_elem(&tsn_recent, &i);
    if (!r) return;
    const __u32 seq = r->seq;
    if ((seq & 1) || __sync_val_compare_and_swap(&r->seq, seq, seq + 1) != seq) return;
    r->key = *k;
    r->owner = *o;
    __sync_fetch_and_add(&r->seq, 1);
}

// Files flow `k` under the socket's owner, and remembers it as the socket's key (its release
// marks the flow's owner as gone).
static __always_inline void store_flow(struct tsn_flow_key* k, struct tsn_sock* s) {
    bpf_map_update_elem(&tsn_flows, k, &s->owner, BPF_ANY);
    remember_recent(k, &s->owner);
    s->key = *k;
    s->has_key = 1;
}

#endif
