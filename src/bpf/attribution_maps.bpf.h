// SPDX-License-Identifier: GPL-2.0
// The attribution module's flow and socket maps and how a flow is filed in them, defined once:
// tsnitch.bpf.c fills them, and the kernel path's verdict.bpf.c declares the same maps so that
// user space can hand it their descriptors (bpf_map__reuse_fd) and its xt_bpf program files the
// TCP flow keys there (store_flow, as sockops does).
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

// Files flow `k` under the socket's owner, and remembers it as the socket's key (its release
// marks the flow's owner as gone).
static __always_inline void store_flow(struct tsn_flow_key* k, struct tsn_sock* s) {
    bpf_map_update_elem(&tsn_flows, k, &s->owner, BPF_ANY);
    s->key = *k;
    s->has_key = 1;
}

#endif
