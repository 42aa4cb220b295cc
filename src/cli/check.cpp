// `tsnitch check`: what this kernel and machine offer, one line per facility, so that a person
// can see why tsnitch would fall back (eBPF -> diag, nft -> iptables) before running it. It
// installs nothing in the machine's own network namespace: the nft probe runs in `unshare -n`.
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "bpf/bpf_monitor.h"
#include "bpf/cgroup_root.h"
#include "bpf/kernel_verdicts.h"
#include "cli/commands.h"
#include "nfq/firewall.h"

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

struct Output {
    int status = -1;
    std::string text;
};

Output run_shell(const std::string& command) {
    Output out;
    FILE* p = ::popen((command + " 2>&1").c_str(), "r");
    if (p == nullptr) return out;
    char buf[512];
    while (std::fgets(buf, sizeof(buf), p) != nullptr)
        out.text += buf;
    const int rc = ::pclose(p);
    out.status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    while (!out.text.empty() && out.text.back() == '\n')
        out.text.pop_back();
    return out;
}

std::string first_line(const std::string& s) {
    return s.substr(0, s.find('\n'));
}

// Whether the kernel accepts nft's native `queue` statement, asked in a throw-away network
// namespace so that nothing touches the machine's own rules.
bool nft_has_queue(const std::string& nft, const std::string& unshare, std::string& reason) {
    if (nft.empty()) {
        reason = "nft not installed";
        return false;
    }
    if (unshare.empty()) {
        reason = "not tested: unshare(1) not found (needed to test in a private namespace)";
        return false;
    }
    if (::geteuid() != 0) {
        reason = "not tested: needs root";
        return false;
    }
    char path[] = "/tmp/tsnitch-check-XXXXXX";
    const int fd = ::mkstemp(path);
    if (fd < 0) {
        reason = "not tested: cannot create a temporary file";
        return false;
    }
    const std::string ruleset =
        "table inet tsnitch_check {\n"
        "  chain out { type filter hook output priority 0; queue num 0 bypass; }\n"
        "}\n";
    const bool written =
        ::write(fd, ruleset.data(), ruleset.size()) == static_cast<ssize_t>(ruleset.size());
    ::close(fd);
    Output r;
    if (written) r = run_shell(unshare + " -n " + nft + " -f " + path);
    ::unlink(path);
    if (r.status == 0) return true;
    // "/tmp/x:2:51-55: Error: Could not process rule: ..." -> from "Error:" on.
    std::string line = first_line(r.text);
    if (size_t e = line.find("Error: "); e != std::string::npos) line = line.substr(e + 7);
    reason = line.empty() ? "refused" : line;
    return false;
}

void row(const char* what, const std::string& value) {
    std::printf("%-24s %s\n", what, value.c_str());
}

}  // namespace

int check(int argc, char** argv) {
    (void)argv;
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
    const bool xt_bpf = run_shell("iptables -m bpf -h").status == 0;
    const Status kpath = bpf::probe_kernel_path();
    row("kernel path:",
        !kpath    ? "not available (" + kpath.error().message + "): the queue decides every flow"
        : !xt_bpf ? "not available (iptables has no bpf match): the queue "
                    "decides every flow"
                  : "available (decided flows skip the queue)");

    const bool nfq_proc = exists("/proc/net/netfilter/nfnetlink_queue");
    std::string nfq = nfq_proc ? "available (/proc/net/netfilter/nfnetlink_queue)" : "";
    if (!nfq_proc) {
        std::string uts = run_shell("uname -r").text;
        const bool module =
            !run_shell("find /lib/modules/" + uts + " -name 'nfnetlink_queue.ko*' -print -quit")
                 .text.empty();
        nfq = module ? "available as a module (nfnetlink_queue, not loaded yet)" : "not available";
    }
    row("NFQUEUE:", nfq);

    const std::string iptables = find_in_path("iptables");
    const std::string nft = find_in_path("nft");
    const std::string unshare = find_in_path("unshare");
    row("iptables:", iptables.empty()
                         ? "not installed"
                         : iptables + " (" + run_shell(iptables + " --version").text + ")");
    row("nft:", nft.empty() ? "not installed" : nft);
    std::string why;
    const bool queue = nft_has_queue(nft, unshare, why);
    row("nft queue expression:", queue ? "available" : "not available: " + why);
    row("IPv6:", nfq::ipv6_enabled() ? "enabled" : "disabled");
    row("firewall (auto):",
        queue ? "nftables" : (!iptables.empty() ? "iptables" : "none available"));
    return kExitOk;
}

}  // namespace tsnitch::cli
