// IPv4 / IPv6 addresses. One type holds both families so that a value always knows which family it
// is: printing never guesses from the byte count (the fe80::1 -> "254.128.0.0" bug).
#pragma once

#include <array>
#include <compare>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace tsnitch {

enum class Family : uint8_t { v4 = 4, v6 = 6 };

class IpAddress {
  public:
    IpAddress() = default;  // 0.0.0.0

    static IpAddress v4(uint32_t host_order);
    static IpAddress v4_bytes(std::span<const uint8_t, 4> network_order);
    static IpAddress v6_bytes(std::span<const uint8_t, 16> network_order, uint32_t scope_id = 0);
    static IpAddress any(Family f);
    // "10.0.2.2", "fe80::1", "fe80::1%3", "::ffff:10.0.2.2". Interface names after '%' are
    // resolved with if_nametoindex; an unknown name fails.
    static std::optional<IpAddress> parse(std::string_view text);

    Family family() const { return family_; }
    bool is_v4() const { return family_ == Family::v4; }
    bool is_v6() const { return family_ == Family::v6; }
    // 4 bytes for v4, 16 for v6, network byte order.
    std::span<const uint8_t> bytes() const;
    uint32_t v4_host_order() const;  // only for v4
    uint32_t scope_id() const { return scope_id_; }

    bool is_unspecified() const;
    bool is_loopback() const;
    bool is_multicast() const;
    bool is_broadcast() const;  // 255.255.255.255 only; subnet broadcasts need the netmask
    bool is_link_local() const;
    bool is_v4_mapped() const;  // ::ffff:a.b.c.d

    // ::ffff:a.b.c.d -> a.b.c.d; anything else unchanged.
    IpAddress unmapped() const;
    // a.b.c.d -> ::ffff:a.b.c.d; v6 unchanged.
    IpAddress mapped_v6() const;

    // The first `prefix` bits kept, the rest zero (for /24, /64 networks).
    IpAddress masked(unsigned prefix) const;
    bool in_network(const IpAddress& network, unsigned prefix) const;

    // Dotted quad for v4; RFC 5952 for v6 (lower case, longest zero run compressed, mapped
    // addresses as ::ffff:a.b.c.d), "%scope" appended for link-local addresses with a scope.
    std::string to_string() const;

    friend bool operator==(const IpAddress&, const IpAddress&) = default;
    friend auto operator<=>(const IpAddress&, const IpAddress&) = default;

  private:
    Family family_ = Family::v4;
    std::array<uint8_t, 16> b_{};  // v4 uses the first 4 bytes
    uint32_t scope_id_ = 0;
};

// The address as written before ":port": IPv6 in brackets, as ss and URLs do ("[fe80::1]").
std::string address_before_port(const IpAddress& a);
// "10.0.2.2:53", "[fe80::1]:53".
std::string endpoint_text(const IpAddress& a, uint16_t port);

// "10.0.0.0/8", "fe80::/10"; a bare address is a full-length prefix.
struct IpNetwork {
    IpAddress address;
    unsigned prefix = 0;

    static std::optional<IpNetwork> parse(std::string_view text);
    bool contains(const IpAddress& a) const { return a.in_network(address, prefix); }
    std::string to_string() const;
    friend bool operator==(const IpNetwork&, const IpNetwork&) = default;
};

}  // namespace tsnitch

template <>
struct std::hash<tsnitch::IpAddress> {
    size_t operator()(const tsnitch::IpAddress& a) const noexcept;
};
