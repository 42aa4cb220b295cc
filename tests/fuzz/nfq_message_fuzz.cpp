// Datagrams from the NFQUEUE socket, as the readers parse them: any bytes give packets whose
// payload lies inside the datagram, and never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "nfq/queue_message.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> datagram(data, size);
    const auto inside = [&](const tsnitch::QueuedPacket& p) {
        if (p.bytes.size() > size) std::abort();
        if (!p.bytes.empty() &&
            (p.bytes.data() < data || p.bytes.data() + p.bytes.size() > data + size))
            std::abort();
    };
    const auto s = tsnitch::nfq::for_each_queued_packet(datagram, inside);
    if (s.packets > size / 16 + 1) std::abort();  // a packet message is longer than 16 bytes
    if (auto p = tsnitch::nfq::parse_queue_packet(datagram)) inside(*p);
    return 0;
}
