// SPDX-License-Identifier: GPL-2.0
// Kernel side of tsnitch's attribution. Every program returns 1 (allow): it only observes; the
// decisions are made in user space through NFQUEUE. (Placeholder until the eBPF issue fills it.)
#include <linux/bpf.h>

#include <bpf/bpf_helpers.h>

SEC("cgroup/sock_create")
int tsnitch_sock_create(struct bpf_sock* sk) {
    (void)sk;
    return 1;
}

char LICENSE[] SEC("license") = "GPL";
