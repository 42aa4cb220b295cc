#include "core/dns/dns_tcp.h"

namespace tsnitch {

namespace {

size_t prefixed_length(std::span<const uint8_t> b, size_t at) {
    return (size_t{b[at]} << 8) | b[at + 1];
}

}  // namespace

DnsTcpSegment split_dns_tcp(std::span<const uint8_t> segment) {
    DnsTcpSegment out;
    size_t pos = 0;
    while (pos < segment.size()) {
        if (segment.size() - pos < 2) break;
        const size_t len = prefixed_length(segment, pos);
        if (segment.size() - pos - 2 < len) break;
        out.messages.push_back(segment.subspan(pos + 2, len));
        pos += 2 + len;
    }
    out.incomplete = segment.size() - pos;
    return out;
}

std::vector<std::vector<uint8_t>> DnsTcpStream::feed(uint32_t seq,
                                                     std::span<const uint8_t> payload) {
    std::vector<std::vector<uint8_t>> out;
    if (lost_ || payload.empty()) return out;
    if (!next_seq_) next_seq_ = seq;
    // Sequence numbers wrap: the signed difference says ahead or behind.
    const auto ahead = static_cast<int32_t>(seq - *next_seq_);
    if (ahead > 0) {
        lost_ = true;
        buffer_.clear();
        buffer_.shrink_to_fit();
        return out;
    }
    const size_t seen = static_cast<size_t>(-static_cast<int64_t>(ahead));
    if (seen >= payload.size()) return out;  // a retransmission of what we have
    payload = payload.subspan(seen);
    buffer_.insert(buffer_.end(), payload.begin(), payload.end());
    *next_seq_ += static_cast<uint32_t>(payload.size());

    const DnsTcpSegment split = split_dns_tcp(buffer_);
    for (auto m : split.messages)
        out.emplace_back(m.begin(), m.end());
    buffer_.erase(buffer_.begin(), buffer_.end() - static_cast<ptrdiff_t>(split.incomplete));
    return out;
}

}  // namespace tsnitch
