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

struct file___tsn_exe {
    struct inode___tsn_exe* f_inode;
} __attribute__((preserve_access_index));

struct mm_struct___tsn_exe {
    struct file___tsn_exe* exe_file;
} __attribute__((preserve_access_index));

struct task_struct___tsn_exe {
    struct mm_struct___tsn_exe* mm;
} __attribute__((preserve_access_index));

// Fills *id with the executable of the current task; all zero for a task without one (kernel
// threads, a process past exit_mm). Plain loads through the task's BTF pointer (the verifier
// makes each a fault-safe load), not a probe-read helper call per field: this runs in every
// socket's creation and connect.
static __always_inline void tsn_current_exe_id(struct tsn_exe_id* id) {
    struct task_struct___tsn_exe* task = (struct task_struct___tsn_exe*)bpf_get_current_task_btf();
    id->ino = 0;
    id->dev = 0;
    id->generation = 0;
    struct mm_struct___tsn_exe* mm = task->mm;
    if (!mm) return;
    struct file___tsn_exe* file = mm->exe_file;
    if (!file) return;
    struct inode___tsn_exe* inode = file->f_inode;
    if (!inode) return;
    id->ino = inode->i_ino;
    id->dev = inode->i_sb->s_dev;
    id->generation = inode->i_generation;
}

#endif
