#include "core/attribution/socket_match.h"

#include <algorithm>

namespace tsnitch {

namespace {
constexpr int kExact = 500;
constexpr int kSameDestination = 400;
constexpr int kBoundToSource = 300;
constexpr int kWildcard = 200;
constexpr int kBoundElsewhere = 100;
constexpr int kOtherPeer = 50;  // a connected UDP socket may still sendto() another address
constexpr int kListening = 10;
constexpr int kTcpListen = 10;  // TCP_LISTEN
}  // namespace

std::optional<int> match_score(const InetSocket& s, const Connection& c) {
    if (s.protocol != c.protocol || s.src_port != c.src_port) return std::nullopt;
    // Compare as IPv4 when the packet is IPv4: a dual-stack socket holds ::ffff:a.b.c.d.
    const bool packet_v4 = c.src.unmapped().is_v4();
    const IpAddress src = s.src.unmapped(), dst = s.dst.unmapped();
    if (packet_v4) {
        if (s.family == Family::v6 && s.v6only) return std::nullopt;
        // An AF_INET6 socket bound or connected to a real IPv6 address sends no IPv4.
        if (!src.is_unspecified() && !src.is_v4()) return std::nullopt;
        if (s.has_peer() && !dst.is_v4()) return std::nullopt;
    } else if (s.family != Family::v6 || src.is_v4() || (s.has_peer() && dst.is_v4())) {
        return std::nullopt;
    }
    const IpAddress want_src = c.src.unmapped(), want_dst = c.dst.unmapped();
    // Scope ids are not part of the packet: compare the bytes only.
    auto same = [](const IpAddress& a, const IpAddress& b) {
        auto x = a.bytes(), y = b.bytes();
        return x.size() == y.size() && std::equal(x.begin(), x.end(), y.begin());
    };
    if (s.state == kTcpListen) return kListening;
    if (s.has_peer()) {
        if (same(dst, want_dst) && s.dst_port == c.dst_port)
            return same(src, want_src) ? kExact : kSameDestination;
        if (c.protocol == Protocol::tcp) return std::nullopt;
        return kOtherPeer;
    }
    if (src.is_unspecified()) return kWildcard;
    if (same(src, want_src)) return kBoundToSource;
    return kBoundElsewhere;
}

std::optional<InetSocket> best_match(std::span<const InetSocket> sockets, const Connection& c) {
    const Family packet_family = c.src.unmapped().family();
    const InetSocket* best = nullptr;
    int best_score = -1;
    for (const InetSocket& s : sockets) {
        auto score = match_score(s, c);
        if (!score) continue;
        // The packet's own family wins a tie (a v4 and a v6 wildcard socket on one port).
        const int total = *score * 2 + (s.family == packet_family ? 1 : 0);
        if (total > best_score) {
            best = &s;
            best_score = total;
        }
    }
    if (!best) return std::nullopt;
    return *best;
}

}  // namespace tsnitch
