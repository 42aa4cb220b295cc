// Sequential TCP connects to HOST PORT, COUNT times (or, with SECONDS, for that long: COUNT 0 is
// no limit): prints each connect's time in nanoseconds (one per line) for connect_bench.py and
// soak_bench.py, then "refused N" and "total_ns N". A connect returns when the SYN-ACK has
// arrived, so its time is the round trip plus whatever the firewall adds to the first packet; a
// refused connect (a firewall's reject: an RST, or EPERM from tsnitch's kernel path) counts as
// done, and its time is the time to the refusal.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

int main(int argc, char** argv) {
    if (argc != 4 && argc != 5) {
        std::fprintf(stderr, "usage: connect_client HOST PORT COUNT [SECONDS]\n");
        return 2;
    }
    sockaddr_storage ss{};
    socklen_t len = 0;
    const int port = std::atoi(argv[2]);
    auto* v4 = reinterpret_cast<sockaddr_in*>(&ss);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&ss);
    if (inet_pton(AF_INET, argv[1], &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(static_cast<uint16_t>(port));
        len = sizeof *v4;
    } else if (inet_pton(AF_INET6, argv[1], &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(static_cast<uint16_t>(port));
        len = sizeof *v6;
    } else {
        std::fprintf(stderr, "connect_client: bad address %s\n", argv[1]);
        return 2;
    }
    const long count = std::atol(argv[3]);
    const auto limit = std::chrono::seconds(argc == 5 ? std::atol(argv[4]) : 0);
    std::vector<long> us;
    us.reserve(count > 0 ? static_cast<size_t>(count) : 1 << 16);
    long refused = 0;
    const auto start = std::chrono::steady_clock::now();
    for (long i = 0; count == 0 || i < count; ++i) {
        if (limit.count() > 0 && std::chrono::steady_clock::now() - start >= limit) break;
        const int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            std::perror("socket");
            return 1;
        }
        // No TIME_WAIT on our side: close with RST so that ports are not used up.
        linger lg{1, 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        const auto t0 = std::chrono::steady_clock::now();
        if (connect(fd, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
            if (errno != ECONNREFUSED && errno != EPERM) {
                std::fprintf(stderr, "connect %ld: %s\n", i, std::strerror(errno));
                close(fd);
                return 1;
            }
            ++refused;
        }
        const auto t1 = std::chrono::steady_clock::now();
        close(fd);
        us.push_back(std::chrono::duration_cast<std::chrono::nanoseconds>(t1 - t0).count());
    }
    const auto total = std::chrono::steady_clock::now() - start;
    std::string out;
    for (long v : us)
        out += std::to_string(v) + "\n";
    std::fputs(out.c_str(), stdout);
    std::printf("refused %ld\n", refused);
    std::printf("total_ns %lld\n",
                static_cast<long long>(
                    std::chrono::duration_cast<std::chrono::nanoseconds>(total).count()));
    return 0;
}
