#include "bpf/flow_key.h"

#include <linux/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/result.h"
#include "core/unique_fd.h"

#ifndef SO_NETNS_COOKIE
#define SO_NETNS_COOKIE 71
#endif

namespace tsnitch::bpf {

namespace {

constexpr uint8_t kAfInet = 2;
constexpr uint8_t kAfInet6 = 10;

void put(uint8_t out[16], const IpAddress& a) {
    auto b = a.bytes();
    std::memcpy(out, b.data(), b.size());
}

}  // namespace

tsn_flow_key make_flow_key(uint64_t netns, Protocol protocol, const IpAddress& src, uint16_t sport,
                           const IpAddress& dst, uint16_t dport) {
    tsn_flow_key k{};
    k.netns = netns;
    k.protocol = static_cast<uint8_t>(protocol);
    k.sport = sport;
    k.dport = dport;
    const IpAddress d = dst.unmapped();
    if (d.is_v4()) {
        k.family = kAfInet;
        // A dual-stack socket bound to :: sends IPv4 from an unspecified source.
        const IpAddress s = src.unmapped();
        if (s.is_v4()) put(k.saddr, s);
        put(k.daddr, d);
    } else {
        k.family = kAfInet6;
        if (src.is_v6()) put(k.saddr, src);
        put(k.daddr, d);
    }
    return k;
}

tsn_flow_key without_source_address(tsn_flow_key key) {
    std::memset(key.saddr, 0, sizeof(key.saddr));
    return key;
}

Result<uint64_t> current_netns_cookie() {
    const UniqueFd fd(::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!fd) return make_error(std::string("socket(): ") + std::strerror(errno), errno);
    uint64_t cookie = 0;
    socklen_t len = sizeof(cookie);
    const int rc = ::getsockopt(fd.get(), SOL_SOCKET, SO_NETNS_COOKIE, &cookie, &len);
    const int err = errno;
    if (rc != 0) {
        return make_error(std::string("getsockopt(SO_NETNS_COOKIE): ") + std::strerror(err), err);
    }
    return cookie;
}

}  // namespace tsnitch::bpf
