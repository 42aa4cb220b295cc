// The floors under tsnitch's cost: tsnitch's own firewall rules and queues (one per CPU, a reader
// pinned to each, as `tsnitch run` has them), but readers that accept every packet at once (no
// parsing, attribution, rules or events). connect_bench.py runs it as the "nfq-floor" row, so
// that what tsnitch adds can be told from what NFQUEUE itself costs here.
//
// With --kernel-floor it is the floor of the kernel path (DESIGN.md §8a) instead: the same rules
// with an always-matching socket filter as the kernel path's pass program (xt_bpf, pinned in a
// bpf file system mounted for this process), so every SYN and every new UDP flow matches and
// leaves the chain before the queue: what netfilter, conntrack and the xt_bpf call cost with none
// of tsnitch's cgroup programs and no user space ("kernel-floor" row).
// Root, in a network namespace only; removes its rules, pin and mount on SIGTERM/SIGINT.
//
//     nfq_floor [--kernel-floor] [QUEUES]     QUEUES: how many queues (default: one per CPU)
#include <linux/bpf.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

#include "core/attribution/diag_client.h"
#include "nfq/firewall.h"
#include "nfq/queue_set.h"

using namespace tsnitch;

namespace {

// A socket filter that matches every packet (r0 = 1), pinned at <dir>/pass in a bpf file system
// mounted at dir; removed by the destructor.
class AlwaysPass {
  public:
    ~AlwaysPass() {
        if (!pin_.empty()) ::unlink(pin_.c_str());
        if (mounted_) ::umount2(dir_.c_str(), MNT_DETACH);
        if (!dir_.empty()) ::rmdir(dir_.c_str());
        if (fd_ >= 0) ::close(fd_);
    }

    // The pin's path, or an empty string after printing why it failed.
    std::string load() {
        const bpf_insn insns[] = {
            {.code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 1},
            {.code = BPF_JMP | BPF_EXIT, .dst_reg = 0, .src_reg = 0, .off = 0, .imm = 0},
        };
        fd_ =
            bpf_prog_load(BPF_PROG_TYPE_SOCKET_FILTER, "tsn_floor_pass", "GPL", insns, 2, nullptr);
        if (fd_ < 0) return fail("loading the always-match socket filter", -fd_);
        dir_ = "/run/tsnitch-floor-" + std::to_string(::getpid());
        if (::mkdir(dir_.c_str(), 0700) != 0) {
            const int e = errno;
            dir_.clear();
            return fail("creating /run/tsnitch-floor-PID", e);
        }
        if (::mount("bpf", dir_.c_str(), "bpf", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0700") != 0)
            return fail("mounting a bpf file system at " + dir_, errno);
        mounted_ = true;
        const std::string pin = dir_ + "/pass";
        if (bpf_obj_pin(fd_, pin.c_str()) != 0) return fail("pinning " + pin, errno);
        pin_ = pin;
        return pin_;
    }

  private:
    static std::string fail(const std::string& what, int err) {
        std::fprintf(stderr, "nfq_floor: %s: %s\n", what.c_str(), std::strerror(err));
        return {};
    }

    int fd_ = -1;
    bool mounted_ = false;
    std::string dir_, pin_;
};

}  // namespace

int main(int argc, char** argv) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);

    nfq::QueueSetOptions qo;
    bool kernel_floor = false;
    for (int i = 1; i < argc; ++i) {
        const std::string_view arg = argv[i];
        if (arg == "--kernel-floor") {
            kernel_floor = true;
        } else if (const int n = std::atoi(argv[i]); n > 0) {
            qo.count = static_cast<unsigned>(n);
        } else {
            std::fprintf(stderr,
                         "nfq_floor: unknown argument '%s' (usage: nfq_floor "
                         "[--kernel-floor] [QUEUES])\n",
                         argv[i]);
            return 2;
        }
    }
    auto queues = nfq::QueueSet::open(qo);
    if (!queues) {
        std::fprintf(stderr, "nfq_floor: %s\n", queues.error().message.c_str());
        return 1;
    }
    nfq::FirewallSpec spec;
    spec.queue_count = (*queues)->count();
    spec.ipv6 = ipv6_enabled();
    AlwaysPass pass;
    if (kernel_floor) {
        spec.kernel_pass_pin = pass.load();
        if (spec.kernel_pass_pin.empty()) return 1;
    }
    auto firewall = nfq::make_firewall(FirewallBackend::automatic, spec);
    if (!firewall) {
        std::fprintf(stderr, "nfq_floor: %s\n", firewall.error().message.c_str());
        return 1;
    }
    if (auto s = (*firewall)->install(); !s) {
        std::fprintf(stderr, "nfq_floor: %s\n", s.error().message.c_str());
        return 1;
    }
    nfq::QueueSet& q = **queues;
    q.start([&q](const QueuedPacket& p) { q.set_verdict(p.queue, p.id, Verdict::allow, p.mark); });
    int sig = 0;
    sigwait(&stop, &sig);
    (void)(*firewall)->remove();
    q.stop();
    return 0;
}
