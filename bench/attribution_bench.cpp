// Attribution latency per method on the sockets of the current network namespace: every TCP and
// UDP socket that a process holds becomes the tuple of a packet it could send, and each ladder
// (diag, proc) attributes them all. Prints p50 / p99 / max in µs, how many were found, and the
// cost of the one full /proc walk (the upper bound of an index miss).
//   attribution_bench [--rounds N] [--limit N] [--proc-limit N]
// Run it through bench/attribution_bench.py, which builds the socket population in a private
// network namespace.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "core/attribution/attribution_ladder.h"
#include "core/attribution/diag_client.h"
#include "core/attribution/inode_index.h"

using namespace tsnitch;
using Clock = std::chrono::steady_clock;

namespace {

double micros(Clock::duration d) {
    return std::chrono::duration<double, std::micro>(d).count();
}

double percentile(std::vector<double> v, double p) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    const size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
    return v[i];
}

// The packet a socket would send: its own tuple (unconnected UDP gets a made-up destination, as a
// sendto() would).
Connection tuple_of(const InetSocket& s) {
    Connection c;
    c.protocol = s.protocol;
    c.src_port = s.src_port;
    c.src = s.src.is_unspecified() ? (s.family == Family::v4 ? *IpAddress::parse("127.0.0.1")
                                                             : *IpAddress::parse("::1"))
                                   : s.src.unmapped();
    if (s.has_peer()) {
        c.dst = s.dst.unmapped();
        c.dst_port = s.dst_port;
    } else {
        c.dst = c.src.is_v4() ? *IpAddress::parse("127.0.0.9") : *IpAddress::parse("::1");
        c.dst_port = 53;
    }
    return c;
}

// A socket the index has not seen, in a process it has read already (this one): the miss
// rescans processes until it finds the holder. Each round opens one more UDP socket.
void new_socket_latency(AttributionLadder& ladder, Method m) {
    std::vector<double> lat;
    std::vector<int> fds;
    size_t found = 0;
    for (int i = 0; i < 30; ++i) {
        const int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_in to{};
        to.sin_family = AF_INET;
        to.sin_port = htons(9);
        to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sendto(fd, "x", 1, 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        sockaddr_in me{};
        socklen_t len = sizeof me;
        getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len);
        fds.push_back(fd);
        Connection c;
        c.protocol = Protocol::udp;
        c.src = *IpAddress::parse("127.0.0.1");
        c.src_port = ntohs(me.sin_port);
        c.dst = *IpAddress::parse("127.0.0.1");
        c.dst_port = 9;
        const auto t = Clock::now();
        Attribution a = ladder.attribute(c);
        lat.push_back(micros(Clock::now() - t));
        if (a.process && a.process->pid == getpid()) ++found;
    }
    for (int fd : fds)
        close(fd);
    std::printf(
        "method %-4s, new socket in an indexed process: found %zu/%zu, p50 %.1f us, p99 %.1f us\n",
        std::string(method_name(m)).c_str(), found, lat.size(), percentile(lat, 0.50),
        percentile(lat, 0.99));
}

}  // namespace

int main(int argc, char** argv) {
    int rounds = 1;
    size_t limit = 0;
    size_t proc_limit = 600;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
        if (std::strcmp(argv[i], "--limit") == 0) limit = std::strtoul(argv[i + 1], nullptr, 10);
        if (std::strcmp(argv[i], "--proc-limit") == 0)
            proc_limit = std::strtoul(argv[i + 1], nullptr, 10);
    }
    auto client = DiagClient::open();
    if (!client) {
        std::fprintf(stderr, "attribution_bench: %s\n", client.error().message.c_str());
        return 1;
    }
    auto snap = client->sockets_dump(ipv6_enabled());
    if (!snap) {
        std::fprintf(stderr, "attribution_bench: %s\n", snap.error().message.c_str());
        return 1;
    }
    std::vector<Connection> packets;
    for (const InetSocket& s : snap->inet) {
        // Listeners send no new connections; time_wait sockets belong to no process.
        if (s.inode == 0 || s.state == 10) continue;
        packets.push_back(tuple_of(s));
    }
    if (limit && packets.size() > limit) packets.resize(limit);

    {
        InodeIndex index;
        const auto t0 = Clock::now();
        index.refresh_all();
        std::printf("full /proc fd walk: %zu processes, %.0f us\n", index.processes(),
                    micros(Clock::now() - t0));
    }
    std::printf("sockets in this namespace: %zu inet (%zu to attribute), %zu unix\n",
                snap->inet.size(), packets.size(), snap->unix_sockets.size());

    for (Method m : {Method::diag, Method::proc}) {
        AttributionLadder::Options opt;
        opt.method = m;
        const auto t0 = Clock::now();
        ProcessModel::Options po;
        po.diag = m != Method::proc;
        ProcessModel processes(po);
        AttributionLadder ladder(processes, opt);
        const double setup = micros(Clock::now() - t0);
        std::vector<double> lat;
        size_t found = 0;
        // /proc/net tables take milliseconds to render: the proc method gets a sample.
        const size_t n = m == Method::proc ? std::min(packets.size(), proc_limit) : packets.size();
        for (int r = 0; r < rounds; ++r) {
            for (size_t i = 0; i < n; ++i) {
                const Connection& c = packets[i * (packets.size() / n)];
                const auto t = Clock::now();
                Attribution a = ladder.attribute(c);
                lat.push_back(micros(Clock::now() - t));
                if (r == 0 && a.process) ++found;
            }
        }
        std::printf(
            "method %-4s: %zu lookups, found %zu/%zu, p50 %.1f us, p99 %.1f us, max %.1f us "
            "(ladder set-up with index warm-up %.0f us)\n",
            std::string(method_name(m)).c_str(), lat.size(), found, n, percentile(lat, 0.50),
            percentile(lat, 0.99), percentile(lat, 1.0), setup);
        new_socket_latency(ladder, m);
    }
    return 0;
}
