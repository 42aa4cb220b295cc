// The running executable's identity, read in the kernel (DESIGN.md §7): BTF reads of the current
// task's mm->exe_file->f_inode. Verified on this project's kernel in cgroup connect4/6, sendmsg4/6
// and sockops. Include after the libbpf headers and tsnitch_bpf.h (struct tsn_exe_id).
#ifndef TSNITCH_EXE_IDENTITY_BPF_H
#define TSNITCH_EXE_IDENTITY_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

// Only the fields we read; the ___tsn_exe suffix keeps these local definitions apart from the
// ones other programs declare, CO-RE relocates them against the running kernel's BTF.
struct super_block___tsn_exe {
    __u32 s_dev;
} __attribute__((preserve_access_index));

struct inode___tsn_exe {
    unsigned long i_ino;
    __u32 i_generation;
    struct super_block___tsn_exe* i_sb;
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

// Fills *id with the current task's executable; all zero (and -1 returned) for a task without
// one (a kernel thread).
static __always_inline int tsn_current_exe_id(struct tsn_exe_id* id) {
    struct task_struct___tsn_exe* task = (struct task_struct___tsn_exe*)bpf_get_current_task_btf();
    struct inode___tsn_exe* inode = BPF_CORE_READ(task, mm, exe_file, f_inode);
    id->ino = 0;
    id->dev = 0;
    id->generation = 0;
    if (!inode) return -1;
    id->ino = BPF_CORE_READ(inode, i_ino);
    id->dev = BPF_CORE_READ(inode, i_sb, s_dev);
    id->generation = BPF_CORE_READ(inode, i_generation);
    return 0;
}

#endif
