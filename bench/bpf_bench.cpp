// eBPF attribution latency: how long the first rung takes to name the owner of a packet's flow.
// Runs in a private network namespace (loopback only); the BPF programs still attach machine-wide
// and only observe. Prints p50/p99 in microseconds per kind of lookup.
//   bpf_bench [flows]      (root; default 1000 UDP and 200 TCP flows)
#include <arpa/inet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <string>
#include <vector>

#include "bpf/bpf_attributor.h"
#include "bpf/bpf_monitor.h"

using namespace tsnitch;
using Clock = std::chrono::steady_clock;

namespace {

bool loopback_up() {
    const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
    if (fd < 0) return false;
    ifreq ifr{};
    std::strncpy(ifr.ifr_name, "lo", IFNAMSIZ - 1);
    bool ok = ::ioctl(fd, SIOCGIFFLAGS, &ifr) == 0;
    ifr.ifr_flags |= IFF_UP;
    ok = ok && ::ioctl(fd, SIOCSIFFLAGS, &ifr) == 0;
    ::close(fd);
    return ok;
}

uint16_t local_port(int fd) {
    sockaddr_in a{};
    socklen_t len = sizeof(a);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    return ntohs(a.sin_port);
}

sockaddr_in loopback(uint16_t port) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    return a;
}

void report(const char* what, std::vector<double> us) {
    if (us.empty()) return;
    std::sort(us.begin(), us.end());
    auto pct = [&](double p) { return us[std::min(us.size() - 1, size_t(p * us.size()))]; };
    std::printf("%-44s n=%-6zu p50=%7.2f us  p99=%7.2f us  max=%8.2f us\n", what, us.size(),
                pct(0.50), pct(0.99), us.back());
}

std::vector<double> time_each(const std::vector<Connection>& conns, int rounds,
                              const std::function<bool(const Connection&)>& fn, size_t& misses) {
    std::vector<double> us;
    us.reserve(conns.size() * rounds);
    for (int r = 0; r < rounds; ++r) {
        for (const Connection& c : conns) {
            const auto t0 = Clock::now();
            const bool found = fn(c);
            const auto t1 = Clock::now();
            if (!found) ++misses;
            us.push_back(std::chrono::duration<double, std::micro>(t1 - t0).count());
        }
    }
    return us;
}

}  // namespace

int main(int argc, char** argv) {
    const int udp_flows = argc > 1 ? std::atoi(argv[1]) : 1000;
    const int tcp_flows = std::max(1, udp_flows / 5);
    if (::unshare(CLONE_NEWNET) != 0 || !loopback_up()) {
        std::perror("bpf_bench: a private network namespace (needs root)");
        return 1;
    }
    ProcessModel processes;
    auto monitor = bpf::BpfMonitor::create(processes);
    if (!monitor) {
        std::fprintf(stderr, "bpf_bench: %s\n", monitor.error().message.c_str());
        return 1;
    }
    bpf::BpfAttributor attributor(**monitor, processes);

    // UDP: unconnected senders (found by the any-source key, as most UDP is).
    const int sink = ::socket(AF_INET, SOCK_DGRAM, 0);
    sockaddr_in any = loopback(0);
    ::bind(sink, reinterpret_cast<sockaddr*>(&any), sizeof(any));
    const uint16_t sink_port = local_port(sink);
    std::vector<int> fds;
    std::vector<Connection> udp, tcp, unknown;
    const IpAddress lo = IpAddress::v4(INADDR_LOOPBACK);
    for (int i = 0; i < udp_flows; ++i) {
        const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
        const sockaddr_in to = loopback(sink_port);
        ::sendto(fd, "x", 1, 0, reinterpret_cast<const sockaddr*>(&to), sizeof(to));
        fds.push_back(fd);
        Connection c;
        c.protocol = Protocol::udp;
        c.src = lo;
        c.src_port = local_port(fd);
        c.dst = lo;
        c.dst_port = sink_port;
        udp.push_back(c);
        c.dst_port = static_cast<uint16_t>(sink_port ^ 0x5555);  // nobody's flow
        unknown.push_back(c);
    }
    // TCP: connected flows (found by the exact key).
    const int listener = ::socket(AF_INET, SOCK_STREAM, 0);
    ::bind(listener, reinterpret_cast<sockaddr*>(&any), sizeof(any));
    ::listen(listener, 4096);
    const uint16_t listen_port = local_port(listener);
    for (int i = 0; i < tcp_flows; ++i) {
        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        const sockaddr_in to = loopback(listen_port);
        if (::connect(fd, reinterpret_cast<const sockaddr*>(&to), sizeof(to)) != 0) continue;
        fds.push_back(fd);
        Connection c;
        c.protocol = Protocol::tcp;
        c.src = lo;
        c.src_port = local_port(fd);
        c.dst = lo;
        c.dst_port = listen_port;
        tcp.push_back(c);
    }

    size_t misses = 0;
    auto owner = [&](const Connection& c) { return attributor.find_owner(c).has_value(); };
    auto full = [&](const Connection& c) { return attributor.attribute(c).process != nullptr; };
    std::printf("eBPF attribution, %zu UDP and %zu TCP flows on loopback\n", udp.size(),
                tcp.size());
    report("map lookup, TCP exact key", time_each(tcp, 20, owner, misses));
    report("map lookup, UDP any-source key", time_each(udp, 5, owner, misses));
    report("attribute() TCP (maps + /proc, cached)", time_each(tcp, 20, full, misses));
    report("attribute() UDP (maps + /proc, cached)", time_each(udp, 5, full, misses));
    const size_t found_misses = misses;
    size_t unknown_hits = 0;
    report("attribute() unknown flow (maps + sock_diag miss)",
           time_each(unknown, 1, full, unknown_hits));
    std::printf("misses among known flows: %zu (expected 0)\n", found_misses);
    for (int fd : fds)
        ::close(fd);
    ::close(sink);
    ::close(listener);
    return found_misses == 0 ? 0 : 1;
}
