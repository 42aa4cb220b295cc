// Sends one UDP datagram with sendto() on an unconnected socket and exits at once: the
// short-lived process of the eBPF attribution test, a real executable that a rule can name by
// process.path. Prints "PID SRC_PORT" so the test can match each sender to its decision.
//   udp_once HOST PORT
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
    if (argc != 3) {
        std::fprintf(stderr, "usage: udp_once HOST PORT\n");
        return 2;
    }
    const bool v6 = std::strchr(argv[1], ':') != nullptr;
    sockaddr_storage to{};
    socklen_t to_len = 0;
    const auto port = static_cast<uint16_t>(std::atoi(argv[2]));
    if (v6) {
        auto* a = reinterpret_cast<sockaddr_in6*>(&to);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(port);
        if (inet_pton(AF_INET6, argv[1], &a->sin6_addr) != 1) return 2;
        to_len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in*>(&to);
        a->sin_family = AF_INET;
        a->sin_port = htons(port);
        if (inet_pton(AF_INET, argv[1], &a->sin_addr) != 1) return 2;
        to_len = sizeof *a;
    }
    const int s = ::socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
    if (s < 0) {
        std::perror("socket");
        return 1;
    }
    const char payload[] = "once";
    if (::sendto(s, payload, sizeof payload - 1, 0, reinterpret_cast<sockaddr*>(&to), to_len) < 0) {
        std::perror("sendto");
        return 1;
    }
    sockaddr_storage me{};
    socklen_t me_len = sizeof me;
    ::getsockname(s, reinterpret_cast<sockaddr*>(&me), &me_len);
    const uint16_t sport = me.ss_family == AF_INET6
                               ? ntohs(reinterpret_cast<sockaddr_in6*>(&me)->sin6_port)
                               : ntohs(reinterpret_cast<sockaddr_in*>(&me)->sin_port);
    std::printf("%d %u\n", static_cast<int>(::getpid()), static_cast<unsigned>(sport));
    return 0;
}
