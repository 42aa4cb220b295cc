// `tsnitch check`: what this kernel and machine offer, one line per facility, so that a person
// can see why tsnitch would fall back (eBPF -> diag, nft -> iptables) before running it. It
// changes nothing: the nft probe is `nft -c` in a throw-away namespace, the same probe and the
// same IPv6 test that `run` uses, so that the two never disagree.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "bpf/bpf_monitor.h"
#include "bpf/cgroup_root.h"
#include "bpf/kernel_verdicts.h"
#include "cli/commands.h"
#include "core/attribution/diag_client.h"
#include "nfq/command.h"
#include "nfq/firewall.h"
#include "nfq/queue_set.h"

namespace tsnitch::cli {

namespace {

bool exists(const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0;
}

std::string find_in_path(const std::string& name) {
    const char* env = std::getenv("PATH");
    std::string path = env ? env : "";
    path += ":/usr/sbin:/sbin";
    size_t i = 0;
    while (i <= path.size()) {
        size_t j = path.find(':', i);
        if (j == std::string::npos) j = path.size();
        const std::string dir = path.substr(i, j - i);
        if (!dir.empty()) {
            const std::string full = dir + "/" + name;
            if (::access(full.c_str(), X_OK) == 0) return full;
        }
        i = j + 1;
    }
    return {};
}

// What a program prints (stdout, else stderr) on its first line; empty when it cannot be run.
std::string first_output_line(const std::vector<std::string>& argv) {
    auto r = nfq::run_command(argv, "");
    if (!r) return {};
    const std::string& text = r->out.empty() ? r->err : r->out;
    return text.substr(0, text.find('\n'));
}

void row(const char* what, const std::string& value) {
    std::printf("%-24s %s\n", what, value.c_str());
}

}  // namespace

int check(int argc, char** argv) {
    if (argc == 2 && (std::string_view(argv[1]) == "--help" || std::string_view(argv[1]) == "-h")) {
        std::fputs(
            "Usage: tsnitch check\n\nWhat this kernel offers: the cgroup v2 root, the eBPF hooks,\n"
            "NFQUEUE, iptables and nft, IPv6, the firewall backend that Firewall auto picks, and\n"
            "whether the kernel path can decide known flows. Exit status 0 whatever is missing.\n",
            stdout);
        return kExitOk;
    }
    if (argc > 1) {
        print_error("check takes no arguments");
        return kExitUsage;
    }
    if (::geteuid() != 0) {
        std::printf("(not running as root: loading eBPF programs and testing nft need root)\n");
    }
    auto root = bpf::CgroupRoot::open();
    row("cgroup v2 root:", root ? root->where() : "not found: " + root.error().message);

    std::printf("eBPF hooks:\n");
    bool all_hooks = root.ok();
    if (root) {
        for (const auto& h : bpf::probe_hooks(*root)) {
            std::printf("  %-26s %s\n", h.name.c_str(),
                        h.available ? "available" : ("not available: " + h.reason).c_str());
            all_hooks = all_hooks && h.available;
        }
    }
    row("eBPF attribution:",
        all_hooks ? "available (method ebpf)" : "not available: tsnitch falls back to diag");
    // The kernel path: its programs load, and iptables can match a pinned program (xt_bpf).
    const auto bpf_match = nfq::run_command({"iptables", "-m", "bpf", "-h"}, "");
    const bool xt_bpf = bpf_match && bpf_match->status == 0;
    const Status kpath = bpf::probe_kernel_path();
    row("kernel path:",
        !kpath    ? "not available (" + kpath.error().message + "): the queue decides every flow"
        : !xt_bpf ? "not available (iptables has no bpf match): the queue "
                    "decides every flow"
                  : "available (decided flows skip the queue)");

    const bool nfq_proc = exists("/proc/net/netfilter/nfnetlink_queue");
    std::string nfq = nfq_proc ? "available (/proc/net/netfilter/nfnetlink_queue)" : "";
    if (!nfq_proc) {
        // modinfo looks the module up for the running kernel and exits 0 when it is there.
        auto modinfo = nfq::run_command({"modinfo", "-n", "nfnetlink_queue"}, "");
        const bool module = modinfo && modinfo->status == 0;
        nfq = module ? "available as a module (nfnetlink_queue, not loaded yet)" : "not available";
    }
    row("NFQUEUE:", nfq);
    const unsigned queues = nfq::queues_per_machine();
    row("NFQUEUE queues:", std::to_string(queues) + " (one per online CPU): QueueNum to QueueNum+" +
                               std::to_string(queues - 1) + ", i.e. " +
                               (queues > 1 ? "0-" + std::to_string(queues - 1) : std::string("0")) +
                               " with the default QueueNum 0");

    const std::string iptables = find_in_path("iptables");
    const std::string nft = find_in_path("nft");
    row("iptables:", iptables.empty()
                         ? "not installed"
                         : iptables + " (" + first_output_line({iptables, "--version"}) + ")");
    row("nft:", nft.empty() ? "not installed" : nft);
    // The probe `run` makes for Firewall auto.
    nfq::NftQueueSupport queue;
    if (nft.empty()) {
        queue.reason = "nft not installed";
    } else if (::geteuid() != 0) {
        queue.reason = "not tested: needs root";
    } else {
        queue = nfq::nft_queue_support();
    }
    row("nft queue expression:", queue.available ? "available" : "not available: " + queue.reason);
    row("IPv6:", ipv6_enabled() ? "enabled" : "disabled");
    row("firewall (auto):",
        queue.available ? "nftables" : (!iptables.empty() ? "iptables" : "none available"));
    return kExitOk;
}

}  // namespace tsnitch::cli
