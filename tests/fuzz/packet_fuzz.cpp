// libFuzzer target for the packet parser: any input gives an Error or a result whose offsets and
// payload lie inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/packet/packet.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::span<const uint8_t> in(data, size);
    auto r = tsnitch::parse_packet(in);
    if (!r.ok()) {
        if (r.error().message.empty()) std::abort();
        return 0;
    }
    const tsnitch::PacketInfo& p = *r;
    if (p.l4_offset > size) std::abort();
    if (!p.payload.empty() &&
        (p.payload.data() < data || p.payload.data() + p.payload.size() > data + size))
        std::abort();
    if (p.src.family() != p.dst.family()) std::abort();
    if (!tsnitch::protocol_has_ports(p.protocol) && (p.src_port != 0 || p.dst_port != 0))
        std::abort();
    if (p.later_fragment && (p.src_port != 0 || p.dst_port != 0 || !p.fragment)) std::abort();
    return 0;
}
