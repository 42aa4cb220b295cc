#include "core/address.h"

#include <arpa/inet.h>
#include <net/if.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace tsnitch {

IpAddress IpAddress::v4(uint32_t host_order) {
    IpAddress a;
    a.family_ = Family::v4;
    a.b_[0] = static_cast<uint8_t>(host_order >> 24);
    a.b_[1] = static_cast<uint8_t>(host_order >> 16);
    a.b_[2] = static_cast<uint8_t>(host_order >> 8);
    a.b_[3] = static_cast<uint8_t>(host_order);
    return a;
}

IpAddress IpAddress::v4_bytes(std::span<const uint8_t, 4> network_order) {
    IpAddress a;
    a.family_ = Family::v4;
    std::copy(network_order.begin(), network_order.end(), a.b_.begin());
    return a;
}

IpAddress IpAddress::v6_bytes(std::span<const uint8_t, 16> network_order, uint32_t scope_id) {
    IpAddress a;
    a.family_ = Family::v6;
    std::copy(network_order.begin(), network_order.end(), a.b_.begin());
    // A scope only means something for link-local (and interface-local multicast) addresses.
    a.scope_id_ = (a.is_link_local() || (a.b_[0] == 0xff && (a.b_[1] & 0x0f) <= 2)) ? scope_id : 0;
    return a;
}

IpAddress IpAddress::any(Family f) {
    IpAddress a;
    a.family_ = f;
    return a;
}

std::optional<IpAddress> IpAddress::parse(std::string_view text) {
    if (text.empty() || text.size() > 64) return std::nullopt;
    std::string s(text);
    if (s.find(':') == std::string::npos) {
        in_addr v4{};
        // inet_pton accepts only the strict dotted quad, no "010" octal or short forms.
        if (inet_pton(AF_INET, s.c_str(), &v4) != 1) return std::nullopt;
        uint8_t bytes[4];
        std::memcpy(bytes, &v4, 4);
        return v4_bytes(std::span<const uint8_t, 4>(bytes, 4));
    }
    uint32_t scope = 0;
    if (auto pct = s.find('%'); pct != std::string::npos) {
        std::string zone = s.substr(pct + 1);
        s.resize(pct);
        if (zone.empty()) return std::nullopt;
        unsigned long n = 0;
        auto [p, ec] = std::from_chars(zone.data(), zone.data() + zone.size(), n);
        if (ec == std::errc() && p == zone.data() + zone.size() && n <= UINT32_MAX) {
            scope = static_cast<uint32_t>(n);
        } else {
            scope = if_nametoindex(zone.c_str());
            if (scope == 0) return std::nullopt;
        }
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, s.c_str(), &v6) != 1) return std::nullopt;
    uint8_t bytes[16];
    std::memcpy(bytes, &v6, 16);
    IpAddress a = v6_bytes(std::span<const uint8_t, 16>(bytes, 16), scope);
    if (scope != 0 && a.scope_id_ == 0) return std::nullopt;  // a zone on a global address
    return a;
}

std::span<const uint8_t> IpAddress::bytes() const {
    return {b_.data(), is_v4() ? size_t{4} : size_t{16}};
}

uint32_t IpAddress::v4_host_order() const {
    return (uint32_t{b_[0]} << 24) | (uint32_t{b_[1]} << 16) | (uint32_t{b_[2]} << 8) | b_[3];
}

bool IpAddress::is_unspecified() const {
    auto b = bytes();
    return std::all_of(b.begin(), b.end(), [](uint8_t x) { return x == 0; });
}

bool IpAddress::is_loopback() const {
    if (is_v4()) return b_[0] == 127;
    if (is_v4_mapped()) return b_[12] == 127;
    static constexpr std::array<uint8_t, 16> one{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return b_ == one;
}

bool IpAddress::is_multicast() const {
    if (is_v4()) return (b_[0] & 0xf0) == 0xe0;
    if (is_v4_mapped()) return (b_[12] & 0xf0) == 0xe0;
    return b_[0] == 0xff;
}

bool IpAddress::is_broadcast() const {
    if (is_v4()) return v4_host_order() == 0xffffffffu;
    if (is_v4_mapped()) return unmapped().is_broadcast();
    return false;
}

bool IpAddress::is_link_local() const {
    if (is_v4()) return b_[0] == 169 && b_[1] == 254;
    if (is_v4_mapped()) return unmapped().is_link_local();
    return b_[0] == 0xfe && (b_[1] & 0xc0) == 0x80;
}

bool IpAddress::is_v4_mapped() const {
    if (!is_v6()) return false;
    for (int i = 0; i < 10; ++i)
        if (b_[i] != 0) return false;
    return b_[10] == 0xff && b_[11] == 0xff;
}

IpAddress IpAddress::unmapped() const {
    if (!is_v4_mapped()) return *this;
    return v4_bytes(std::span<const uint8_t, 4>(b_.data() + 12, 4));
}

IpAddress IpAddress::mapped_v6() const {
    if (is_v6()) return *this;
    std::array<uint8_t, 16> m{};
    m[10] = m[11] = 0xff;
    std::copy(b_.begin(), b_.begin() + 4, m.begin() + 12);
    return v6_bytes(m);
}

IpAddress IpAddress::masked(unsigned prefix) const {
    IpAddress a = *this;
    const unsigned bits = is_v4() ? 32 : 128;
    if (prefix >= bits) return a;
    for (unsigned i = 0; i < bits / 8; ++i) {
        const unsigned start = i * 8;
        if (start >= prefix) {
            a.b_[i] = 0;
        } else if (start + 8 > prefix) {
            a.b_[i] &= static_cast<uint8_t>(0xff << (8 - (prefix - start)));
        }
    }
    a.scope_id_ = prefix == bits ? scope_id_ : 0;
    return a;
}

bool IpAddress::in_network(const IpAddress& network, unsigned prefix) const {
    // An IPv4 packet of a dual-stack socket arrives as ::ffff:a.b.c.d; compare it as IPv4.
    IpAddress self = unmapped();
    IpAddress net = network;
    if (net.is_v4_mapped() && prefix >= 96) {
        net = net.unmapped();
        prefix -= 96;
    }
    if (self.family_ != net.family_) return false;
    IpAddress a = self.masked(prefix), b = net.masked(prefix);
    return std::equal(a.b_.begin(), a.b_.end(), b.b_.begin());
}

std::string IpAddress::to_string() const {
    if (is_v4()) {
        // By hand: glibc's inet_ntop formats each byte with sprintf, once per event line.
        char buf[16];
        char* at = buf;
        for (size_t i = 0; i < 4; ++i) {
            if (i) *at++ = '.';
            const unsigned v = b_[i];
            if (v >= 100) *at++ = static_cast<char>('0' + v / 100);
            if (v >= 10) *at++ = static_cast<char>('0' + v / 10 % 10);
            *at++ = static_cast<char>('0' + v % 10);
        }
        return std::string(buf, at);
    }
    char buf[INET6_ADDRSTRLEN + 16];
    // glibc's inet_ntop follows RFC 5952 (lower case, longest run of two or more zero groups,
    // first on a tie, ::ffff:a.b.c.d for mapped addresses).
    inet_ntop(AF_INET6, b_.data(), buf, sizeof buf);
    std::string s = buf;
    if (scope_id_ != 0) {
        char name[IF_NAMESIZE];
        s += '%';
        s += if_indextoname(scope_id_, name) ? std::string(name) : std::to_string(scope_id_);
    }
    return s;
}

std::optional<IpNetwork> IpNetwork::parse(std::string_view text) {
    auto slash = text.find('/');
    auto addr = IpAddress::parse(text.substr(0, slash));
    if (!addr) return std::nullopt;
    const unsigned bits = addr->is_v4() ? 32 : 128;
    unsigned prefix = bits;
    if (slash != std::string_view::npos) {
        auto p = text.substr(slash + 1);
        auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), prefix);
        if (p.empty() || ec != std::errc() || end != p.data() + p.size() || prefix > bits)
            return std::nullopt;
    }
    return IpNetwork{addr->masked(prefix), prefix};
}

std::string address_before_port(const IpAddress& a) {
    return a.is_v6() ? "[" + a.to_string() + "]" : a.to_string();
}

std::string endpoint_text(const IpAddress& a, uint16_t port) {
    return address_before_port(a) + ":" + std::to_string(port);
}

std::string IpNetwork::to_string() const {
    return address.to_string() + "/" + std::to_string(prefix);
}

}  // namespace tsnitch

size_t std::hash<tsnitch::IpAddress>::operator()(const tsnitch::IpAddress& a) const noexcept {
    size_t h = static_cast<size_t>(a.family()) * 0x9e3779b97f4a7c15ull;
    for (uint8_t x : a.bytes())
        h = (h ^ x) * 0x100000001b3ull;
    return h ^ a.scope_id();
}
