// The floor under tsnitch's cost: tsnitch's own firewall rules and queue, but a loop that accepts
// every packet at once (no parsing, attribution, rules or events). connect_bench.py runs it as
// the "nfqueue" row, so that what tsnitch adds can be told from what NFQUEUE itself costs here.
// Root, in a network namespace only; removes its rules on SIGTERM/SIGINT.
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>

#include "core/attribution/diag_client.h"
#include "nfq/firewall.h"
#include "nfq/nf_queue.h"

using namespace tsnitch;

int main() {
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, nullptr);
    const int sfd = signalfd(-1, &stop, SFD_CLOEXEC);

    auto queue = nfq::NfQueue::open({});
    if (!queue) {
        std::fprintf(stderr, "nfq_floor: %s\n", queue.error().message.c_str());
        return 1;
    }
    nfq::FirewallSpec spec;
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
    nfq::NfQueue& q = **queue;
    const int ep = epoll_create1(EPOLL_CLOEXEC);
    for (int fd : {q.fd(), sfd}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
    }
    const auto accept = [&q](const QueuedPacket& p) {
        q.set_verdict(p.id, Verdict::allow, p.mark);
    };
    for (;;) {
        epoll_event ev[2];
        const int n = epoll_wait(ep, ev, 2, -1);
        for (int i = 0; i < n; ++i) {
            if (ev[i].data.fd == sfd) {
                (void)(*firewall)->remove();
                return 0;
            }
            (void)q.receive(accept);
        }
    }
}
