// The floor under tsnitch's cost: tsnitch's own firewall rules and queues (one per CPU, a reader
// pinned to each, as `tsnitch run` has them), but readers that accept every packet at once (no
// parsing, attribution, rules or events). connect_bench.py runs it as the "nfq floor" row, so
// that what tsnitch adds can be told from what NFQUEUE itself costs here.
// Root, in a network namespace only; removes its rules on SIGTERM/SIGINT.
//
//     nfq_floor [QUEUES]     QUEUES: how many queues (default: one per online CPU)
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "core/attribution/diag_client.h"
#include "nfq/firewall.h"
#include "nfq/queue_set.h"

using namespace tsnitch;

int main(int argc, char** argv) {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);

    nfq::QueueSetOptions qo;
    if (argc > 1) qo.count = static_cast<unsigned>(std::atoi(argv[1]));
    auto queues = nfq::QueueSet::open(qo);
    if (!queues) {
        std::fprintf(stderr, "nfq_floor: %s\n", queues.error().message.c_str());
        return 1;
    }
    nfq::FirewallSpec spec;
    spec.queue_count = (*queues)->count();
    spec.ipv6 = ipv6_enabled();
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
