#include "core/packet/packet.h"

#include <optional>
#include <string>
#include <string_view>

namespace tsnitch {
namespace {

// IP protocol numbers of the headers that sit between the IP header and the transport header.
constexpr uint8_t kHopByHop = 0;
constexpr uint8_t kRouting = 43;
constexpr uint8_t kFragment = 44;
constexpr uint8_t kAuthHeader = 51;
constexpr uint8_t kDestOptions = 60;
constexpr uint8_t kJumboOption = 0xc2;

uint16_t be16(std::span<const uint8_t> b, size_t off) {
    return static_cast<uint16_t>(b[off] << 8 | b[off + 1]);
}

uint32_t be32(std::span<const uint8_t> b, size_t off) {
    return uint32_t{b[off]} << 24 | uint32_t{b[off + 1]} << 16 | uint32_t{b[off + 2]} << 8 |
           uint32_t{b[off + 3]};
}

std::string num(size_t n) {
    return std::to_string(n);
}

// "IPv6: truncated fragment header at offset 40 (8 bytes needed, 3 left)"
Error truncated(std::string_view layer, std::string_view what, size_t off, size_t need,
                size_t end) {
    std::string m(layer);
    m += ": truncated ";
    m += what;
    m += " at offset " + num(off) + " (" + num(need) + " bytes needed, " +
         num(end > off ? end - off : 0) + " left)";
    return make_error(std::move(m));
}

Error malformed(std::string_view layer, const std::string& what) {
    return make_error(std::string(layer) + ": " + what);
}

std::string_view family_layer(Family f) {
    return f == Family::v4 ? "IPv4" : "IPv6";
}

// The packet being parsed: `b` ends where the IP header says the packet ends (bytes after that,
// such as link-layer padding, are not part of it).
struct Cursor {
    std::span<const uint8_t> b;
    size_t off = 0;

    size_t left() const { return b.size() - off; }
    bool has(size_t n) const { return off <= b.size() && n <= b.size() - off; }
};

// Walks the type-length-value options of a hop-by-hop or destination options header
// [start, end). Reports the jumbo payload length (RFC 2675) when the option is present.
Status walk_v6_options(std::span<const uint8_t> b, size_t start, size_t end,
                       std::string_view header, std::optional<uint32_t>* jumbo) {
    size_t i = start;
    while (i < end) {
        uint8_t type = b[i];
        if (type == 0) {  // Pad1 has no length byte
            ++i;
            continue;
        }
        if (end - i < 2)
            return malformed("IPv6", "option " + num(type) + " at offset " + num(i) +
                                         " has no length byte in the " + std::string(header));
        size_t len = size_t{b[i + 1]} + 2;
        if (len > end - i)
            return malformed("IPv6", "option " + num(type) + " at offset " + num(i) +
                                         " runs past the end of the " + std::string(header) +
                                         " (length " + num(len) + ", " + num(end - i) +
                                         " bytes left)");
        if (type == kJumboOption && jumbo) {
            if (len != 6)
                return malformed("IPv6", "jumbo payload option at offset " + num(i) +
                                             " has length " + num(len - 2) + ", expected 4");
            *jumbo = be32(b, i + 2);
        }
        i += len;
    }
    return Ok{};
}

// IPv4 options [20, header_len): each is EOL, NOP or type-length-value with length >= 2.
Status walk_v4_options(std::span<const uint8_t> b, size_t header_len) {
    size_t i = 20;
    while (i < header_len) {
        uint8_t type = b[i];
        if (type == 0) break;  // end of option list
        if (type == 1) {       // no-operation
            ++i;
            continue;
        }
        if (header_len - i < 2)
            return malformed(
                "IPv4", "option " + num(type) + " at offset " + num(i) + " has no length byte");
        size_t len = b[i + 1];
        if (len < 2 || len > header_len - i)
            return malformed("IPv4", "option " + num(type) + " at offset " + num(i) +
                                         " has bad length " + num(len) + " (header ends at " +
                                         num(header_len) + ")");
        i += len;
    }
    return Ok{};
}

// The authentication header (RFC 4302) may precede the transport header in both families; its
// length counts 4-byte units minus 2.
Status skip_auth_header(Cursor& c, uint8_t& next, Family family) {
    std::string_view layer = family_layer(family);
    if (!c.has(12)) return truncated(layer, "authentication header", c.off, 12, c.b.size());
    size_t len = (size_t{c.b[c.off + 1]} + 2) * 4;
    if (len < 12)
        return malformed(layer, "authentication header at offset " + num(c.off) + " has length " +
                                    num(len) + ", below the minimum of 12");
    if (!c.has(len))
        return malformed(layer, "authentication header at offset " + num(c.off) + " has length " +
                                    num(len) + " but only " + num(c.left()) + " bytes are left");
    next = c.b[c.off];
    c.off += len;
    return Ok{};
}

Result<Protocol> transport_protocol(uint8_t number, Family family, size_t off) {
    std::string_view layer = family_layer(family);
    auto p = protocol_from_number(number);
    if (!p)
        return malformed(
            layer, "unsupported transport protocol " + num(number) + " at offset " + num(off));
    // ICMP belongs to IPv4 and ICMPv6 to IPv6; the other pairing is not a packet anyone sends.
    if ((*p == Protocol::icmp && family == Family::v6) ||
        (*p == Protocol::icmp6 && family == Family::v4))
        return malformed(layer, std::string(protocol_name(*p)) + " (protocol " + num(number) +
                                    ") is not valid over " + std::string(layer));
    return *p;
}

// Parses the transport header at c.off. `partial` is true for the first fragment of a
// fragmented datagram: the datagram's length fields then cover more than this packet holds.
Status parse_transport(Cursor c, Protocol proto, bool partial, PacketInfo& info) {
    info.protocol = proto;
    info.l4_offset = c.off;
    const auto& b = c.b;
    size_t off = c.off;
    size_t header_len = 0;
    switch (proto) {
        case Protocol::tcp: {
            if (!c.has(20)) return truncated("TCP", "header", off, 20, b.size());
            size_t data_offset = b[off + 12] >> 4;
            if (data_offset < 5)
                return malformed("TCP", "data offset " + num(data_offset) + " at offset " +
                                            num(off) + " is below the minimum of 5");
            header_len = data_offset * 4;
            if (!c.has(header_len))
                return malformed("TCP", "header length " + num(header_len) + " at offset " +
                                            num(off) + " runs past the end of the packet (" +
                                            num(c.left()) + " bytes left)");
            info.src_port = be16(b, off);
            info.dst_port = be16(b, off + 2);
            info.tcp_flags = b[off + 13];
            info.tcp_seq = be32(b, off + 4);
            break;
        }
        case Protocol::udp: {
            if (!c.has(8)) return truncated("UDP", "header", off, 8, b.size());
            info.src_port = be16(b, off);
            info.dst_port = be16(b, off + 2);
            size_t len = be16(b, off + 4);
            header_len = 8;
            // A jumbogram's UDP length is 0 (RFC 2675): the IP layer's length counts.
            bool jumbo = len == 0 && c.left() > 0xffff;
            if (!partial && !jumbo) {
                if (len < 8)
                    return malformed("UDP", "length " + num(len) + " at offset " + num(off) +
                                                " is below the header size of 8");
                if (len > c.left())
                    return malformed("UDP", "length " + num(len) + " at offset " + num(off) +
                                                " runs past the end of the packet (" +
                                                num(c.left()) + " bytes left)");
                info.payload = b.subspan(off + 8, len - 8);
                return Ok{};
            }
            break;
        }
        case Protocol::udplite: {
            if (!c.has(8)) return truncated("UDPLite", "header", off, 8, b.size());
            info.src_port = be16(b, off);
            info.dst_port = be16(b, off + 2);
            // UDPLite's length field is the checksum coverage: 0 (all) or 8..datagram length.
            size_t coverage = be16(b, off + 4);
            if (coverage != 0 && (coverage < 8 || (!partial && coverage > c.left())))
                return malformed("UDPLite", "checksum coverage " + num(coverage) + " at offset " +
                                                num(off) + " is outside 8.." + num(c.left()));
            header_len = 8;
            break;
        }
        case Protocol::sctp:
            // The common header: ports, verification tag, checksum; chunks follow.
            if (!c.has(12)) return truncated("SCTP", "common header", off, 12, b.size());
            info.src_port = be16(b, off);
            info.dst_port = be16(b, off + 2);
            header_len = 12;
            break;
        case Protocol::icmp:
        case Protocol::icmp6: {
            std::string_view layer = proto == Protocol::icmp ? "ICMP" : "ICMPv6";
            if (!c.has(8)) return truncated(layer, "header", off, 8, b.size());
            info.icmp_type = b[off];
            info.icmp_code = b[off + 1];
            header_len = 8;
            break;
        }
    }
    info.payload = b.subspan(off + header_len);
    return Ok{};
}

Result<PacketInfo> parse_v4(std::span<const uint8_t> bytes) {
    if (bytes.size() < 20) return truncated("IPv4", "header", 0, 20, bytes.size());
    size_t header_len = static_cast<size_t>(bytes[0] & 0x0f) * 4;
    if (header_len < 20)
        return malformed("IPv4", "header length " + num(header_len) + " (IHL " +
                                     num(header_len / 4) + ") is below the minimum of 20");
    if (header_len > bytes.size())
        return truncated("IPv4", "header with options", 0, header_len, bytes.size());
    size_t total = be16(bytes, 2);
    // A GSO packet above 64 KiB carries total length 0 (the kernel's BIG TCP); the buffer counts.
    if (total == 0 && bytes.size() > 0xffff) total = bytes.size();
    if (total < header_len)
        return malformed("IPv4", "total length " + num(total) + " is below the header length " +
                                     num(header_len));
    if (total > bytes.size())
        return malformed("IPv4", "total length " + num(total) + " exceeds the " +
                                     num(bytes.size()) + " bytes received");
    if (auto s = walk_v4_options(bytes, header_len); !s) return s.error();

    PacketInfo info;
    info.src = IpAddress::v4_bytes(bytes.subspan<12, 4>());
    info.dst = IpAddress::v4_bytes(bytes.subspan<16, 4>());
    uint16_t frag = be16(bytes, 6);
    bool more_fragments = frag & 0x2000;
    size_t frag_offset = frag & 0x1fff;
    info.fragment = more_fragments || frag_offset != 0;

    Cursor c{bytes.first(total), header_len};
    uint8_t next = bytes[9];
    if (frag_offset != 0) {
        auto proto = transport_protocol(next, Family::v4, c.off);
        if (!proto) return proto.error();
        info.protocol = *proto;
        info.later_fragment = true;
        info.l4_offset = c.off;
        info.payload = c.b.subspan(c.off);
        return info;
    }
    if (next == kAuthHeader)
        if (auto s = skip_auth_header(c, next, Family::v4); !s) return s.error();
    auto proto = transport_protocol(next, Family::v4, c.off);
    if (!proto) return proto.error();
    if (auto s = parse_transport(c, *proto, more_fragments, info); !s) return s.error();
    return info;
}

Result<PacketInfo> parse_v6(std::span<const uint8_t> bytes) {
    if (bytes.size() < 40) return truncated("IPv6", "header", 0, 40, bytes.size());
    PacketInfo info;
    info.src = IpAddress::v6_bytes(bytes.subspan<8, 16>());
    info.dst = IpAddress::v6_bytes(bytes.subspan<24, 16>());
    size_t payload_len = be16(bytes, 4);
    uint8_t next = bytes[6];

    // Payload length 0 means a jumbogram whose length is in the hop-by-hop header (RFC 2675),
    // or a kernel GSO packet above 64 KiB (BIG TCP) whose length is the buffer's.
    size_t end = 40 + payload_len;
    bool length_from_jumbo = payload_len == 0 && next == kHopByHop;
    if (length_from_jumbo || (payload_len == 0 && bytes.size() > 40 + 0xffff)) end = bytes.size();
    if (end > bytes.size())
        return malformed("IPv6", "payload length " + num(payload_len) + " exceeds the " +
                                     num(bytes.size() - 40) + " bytes after the header");

    Cursor c{bytes.first(end), 40};
    bool first_header = true;
    for (;; first_header = false) {
        switch (next) {
            case kHopByHop:
            case kDestOptions:
            case kRouting: {
                std::string_view name = next == kHopByHop  ? "hop-by-hop options header"
                                        : next == kRouting ? "routing header"
                                                           : "destination options header";
                if (next == kHopByHop && !first_header)
                    return malformed("IPv6", "hop-by-hop options header at offset " + num(c.off) +
                                                 " does not follow the IPv6 header");
                if (!c.has(8)) return truncated("IPv6", name, c.off, 8, c.b.size());
                size_t len = (size_t{c.b[c.off + 1]} + 1) * 8;
                if (!c.has(len))
                    return malformed("IPv6", std::string(name) + " at offset " + num(c.off) +
                                                 " has length " + num(len) + " but only " +
                                                 num(c.left()) + " bytes are left");
                if (next != kRouting) {
                    std::optional<uint32_t> jumbo;
                    auto s = walk_v6_options(c.b, c.off + 2, c.off + len, name,
                                             next == kHopByHop ? &jumbo : nullptr);
                    if (!s) return s.error();
                    if (length_from_jumbo) {
                        if (!jumbo)
                            return malformed("IPv6",
                                             "payload length 0 without a jumbo payload "
                                             "option");
                        if (*jumbo <= 0xffff || *jumbo > bytes.size() - 40)
                            return malformed("IPv6", "jumbo payload length " + num(*jumbo) +
                                                         " is not in 65536.." +
                                                         num(bytes.size() - 40));
                        c.b = bytes.first(40 + size_t{*jumbo});
                        length_from_jumbo = false;
                    }
                }
                next = c.b[c.off];
                c.off += len;
                continue;
            }
            case kFragment: {
                if (!c.has(8)) return truncated("IPv6", "fragment header", c.off, 8, c.b.size());
                uint16_t frag = be16(c.b, c.off + 2);
                size_t frag_offset = frag >> 3;
                bool more_fragments = frag & 1;
                next = c.b[c.off];
                c.off += 8;
                info.fragment = info.fragment || more_fragments || frag_offset != 0;
                if (frag_offset != 0) {
                    // The rest is the middle of a datagram: no header of any kind to read.
                    if (next == kHopByHop || next == kDestOptions || next == kRouting ||
                        next == kFragment || next == kAuthHeader)
                        return malformed("IPv6", "later fragment at offset " + num(c.off) +
                                                     " hides its transport protocol behind "
                                                     "extension header " +
                                                     num(next));
                    auto proto = transport_protocol(next, Family::v6, c.off);
                    if (!proto) return proto.error();
                    info.protocol = *proto;
                    info.later_fragment = true;
                    info.l4_offset = c.off;
                    info.payload = c.b.subspan(c.off);
                    return info;
                }
                continue;
            }
            case kAuthHeader:
                if (auto s = skip_auth_header(c, next, Family::v6); !s) return s.error();
                continue;
            default:
                break;
        }
        break;
    }
    auto proto = transport_protocol(next, Family::v6, c.off);
    if (!proto) return proto.error();
    // With the fragment header seen and not later: this is the first fragment.
    if (auto s = parse_transport(c, *proto, info.fragment, info); !s) return s.error();
    return info;
}

}  // namespace

Result<PacketInfo> parse_packet(std::span<const uint8_t> bytes) {
    if (bytes.empty()) return make_error("packet: empty");
    switch (bytes[0] >> 4) {
        case 4:
            return parse_v4(bytes);
        case 6:
            return parse_v6(bytes);
        default:
            return make_error("packet: IP version " + num(bytes[0] >> 4) + " is neither 4 nor 6");
    }
}

}  // namespace tsnitch
