// SPDX-License-Identifier: GPL-2.0
// The running task's executable identity (DESIGN.md §7): BTF reads of current->mm->exe_file's
// inode. Works in the cgroup socket programs (connect, sendmsg, sock_create, sockops) and in raw
// tracepoints on this kernel family. Shared by tsnitch.bpf.c and the kernel verdict cache
// (verdict.bpf.c), which keys on struct tsn_exe_id: keep the name and layout.
#ifndef TSNITCH_EXE_IDENTITY_BPF_H
#define TSNITCH_EXE_IDENTITY_BPF_H

#include <linux/bpf.h>

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "tsnitch_bpf.h"

// Only the fields we read; the ___tsn_exe flavour keeps these apart from other local
// definitions, and CO-RE relocates them against the running kernel's BTF.
struct super_block___tsn_exe {
    __u32 s_dev;
} __attribute__((preserve_access_index));

struct inode___tsn_exe {
    unsigned long i_ino;
    struct super_block___tsn_exe* i_sb;
    __u32 i_generation;
} __attribute__((preserve_access_index));

struct qstr___tsn_exe {
    __u64 hash_len;  // the name's hash (salted with the parent dentry) and its length
} __attribute__((preserve_access_index));

struct dentry___tsn_exe {
    struct dentry___tsn_exe* d_parent;
    struct qstr___tsn_exe d_name;
    struct inode___tsn_exe* d_inode;
    struct super_block___tsn_exe* d_sb;
} __attribute__((preserve_access_index));

struct vfsmount___tsn_exe {
    struct dentry___tsn_exe* mnt_root;
} __attribute__((preserve_access_index));

struct mount___tsn_exe {
    struct mount___tsn_exe* mnt_parent;
    struct dentry___tsn_exe* mnt_mountpoint;
    struct vfsmount___tsn_exe mnt;
} __attribute__((preserve_access_index));

struct path___tsn_exe {
    struct vfsmount___tsn_exe* mnt;
    struct dentry___tsn_exe* dentry;
} __attribute__((preserve_access_index));

struct file___tsn_exe {
    struct path___tsn_exe f_path;
    struct inode___tsn_exe* f_inode;
} __attribute__((preserve_access_index));

struct mm_struct___tsn_exe {
    struct file___tsn_exe* exe_file;
} __attribute__((preserve_access_index));

struct task_struct___tsn_exe {
    struct mm_struct___tsn_exe* mm;
} __attribute__((preserve_access_index));

// Components and mount crossings a path id covers; a deeper path has none (its flows are never
// decided in the kernel).
#define TSN_EXE_PATH_STEPS 40

static __always_inline __u64 tsn_path_mix(__u64 h, __u64 v) {
    return (h ^ v) * 0x100000001b3ull;
}

// A root the walk ended at: its file system and inode (a container's root is not ours).
static __always_inline __u64 tsn_path_root(__u64 h, __u64 d) {
    struct dentry___tsn_exe* dentry = (struct dentry___tsn_exe*)d;
    h = tsn_path_mix(h, BPF_CORE_READ(dentry, d_sb, s_dev));
    return tsn_path_mix(h, BPF_CORE_READ(dentry, d_inode, i_ino)) | 1;
}

// The rest of a path id's walk, from the root of the executable's mount on: crossing mounts needs
// struct mount, which only probe reads reach (plain addresses here). One step per bpf_loop call,
// so that the verifier checks it once. Rare beyond the first crossing: most executables lie on
// the file system mounted at "/".
struct tsn_path_walk {
    __u64 h;
    __u64 d;  // struct dentry *
    __u64 m;  // struct mount *
    __u64 id;
};

static long tsn_path_step(__u32 index, void* ctx) {
    (void)index;
    struct tsn_path_walk* w = ctx;
    struct dentry___tsn_exe* d = (struct dentry___tsn_exe*)w->d;
    struct mount___tsn_exe* m = (struct mount___tsn_exe*)w->m;
    if (d == BPF_CORE_READ(m, mnt.mnt_root)) {
        struct mount___tsn_exe* parent = BPF_CORE_READ(m, mnt_parent);
        if (!parent || parent == m) {  // the root of the mount namespace
            w->id = tsn_path_root(w->h, w->d);
            return 1;
        }
        w->d = (__u64)BPF_CORE_READ(m, mnt_mountpoint);
        w->m = (__u64)parent;
        return 0;
    }
    struct dentry___tsn_exe* up = BPF_CORE_READ(d, d_parent);
    w->h = tsn_path_mix(w->h, BPF_CORE_READ(d, d_name.hash_len));
    if (!up || up == d) {  // a tree no mount shows (memfd)
        w->id = tsn_path_root(w->h, w->d);
        return 1;
    }
    w->d = (__u64)up;
    return 0;
}

// The executable's path as an id: the names of its dentries up to the root of its mount
// namespace, crossing mounts, mixed with that root. A hard link, a bind mount, a rename of the
// file or of a directory above it give another id, as they give another path; a copy of the mount
// tree (a new mount namespace of the same root: ip netns exec, a service's private /tmp) gives
// the same. 0: deeper than TSN_EXE_PATH_STEPS. Plain loads within the executable's own mount.
static __always_inline __u64 tsn_path_id(struct file___tsn_exe* file) {
    struct dentry___tsn_exe* d = file->f_path.dentry;
    struct vfsmount___tsn_exe* vm = file->f_path.mnt;
    if (!d || !vm) return 0;
    struct dentry___tsn_exe* root = vm->mnt_root;
    __u64 h = 0xcbf29ce484222325ull;
    int i = 0;
    for (; i < TSN_EXE_PATH_STEPS; i++) {
        if (d == root) break;
        struct dentry___tsn_exe* up = d->d_parent;
        h = tsn_path_mix(h, d->d_name.hash_len);
        if (!up || up == d) break;  // not under its mount's root: the walk below says so
        d = up;
    }
    if (i >= TSN_EXE_PATH_STEPS) return 0;
    // Plain addresses from here on (what the walk's probe reads take).
    struct tsn_path_walk w = {};
    w.h = h;
    if (bpf_probe_read_kernel(&w.m, sizeof(w.m), &file->f_path.mnt) != 0) return 0;
    w.m -= bpf_core_field_offset(struct mount___tsn_exe, mnt);
    if (d != root) {
        // A root that is not its mount's (a file of an internal mount, as memfd's): its
        // d_parent is itself, which gives its address.
        if (bpf_probe_read_kernel(&w.d, sizeof(w.d), &d->d_parent) != 0) return 0;
        return tsn_path_root(h, w.d);
    }
    if (bpf_probe_read_kernel(&w.d, sizeof(w.d), &vm->mnt_root) != 0) return 0;
    bpf_loop(TSN_EXE_PATH_STEPS - i, tsn_path_step, &w, 0);
    return w.id;
}

// Fills *id with the executable of the current task; all zero for a task without one (kernel
// threads, a process past exit_mm). Plain loads through the task's BTF pointer (the verifier
// makes each a fault-safe load), not a probe-read helper call per field: this runs in every
// socket's creation and connect.
static __always_inline void tsn_current_exe_id(struct tsn_exe_id* id) {
    struct task_struct___tsn_exe* task = (struct task_struct___tsn_exe*)bpf_get_current_task_btf();
    id->ino = 0;
    id->dev = 0;
    id->generation = 0;
    id->path = 0;
    struct mm_struct___tsn_exe* mm = task->mm;
    if (!mm) return;
    struct file___tsn_exe* file = mm->exe_file;
    if (!file) return;
    struct inode___tsn_exe* inode = file->f_inode;
    if (!inode) return;
    id->ino = inode->i_ino;
    id->dev = inode->i_sb->s_dev;
    id->generation = inode->i_generation;
    id->path = tsn_path_id(file);
}

// The current task's executable: what exec noted in its process's entry `p` (tsn_procs) when
// there is one, else read (and its path walked) now. An entry without it (a process seeded from
// /proc, started before loading) keeps what was read, so that its path is walked once, not at
// each socket: the path last, by an atomic exchange (a full barrier), so that a reader on another
// CPU that sees it sees the rest too.
static __always_inline void tsn_exe_id_of(struct tsn_exe_id* id, struct tsn_proc* p) {
    if (p && p->exe.path != 0) {
        *id = p->exe;
        return;
    }
    tsn_current_exe_id(id);
    if (!p || id->path == 0) return;
    p->exe.ino = id->ino;
    p->exe.dev = id->dev;
    p->exe.generation = id->generation;
    __sync_lock_test_and_set(&p->exe.path, id->path);
}

#endif
