#include "core/dns/dns_learner.h"

#include <algorithm>
#include <optional>
#include <string>

#include "core/dns/dns_message.h"

namespace tsnitch {

namespace {

constexpr uint16_t kDnsPort = 53;

}  // namespace

DnsLearner::DnsLearner(DnsCache& cache, size_t max_tcp_streams)
    : cache_(cache), max_streams_(std::max<size_t>(max_tcp_streams, 1)) {}

Result<size_t> DnsLearner::learn_message(std::span<const uint8_t> message) {
    auto parsed = parse_dns_message(message);
    if (!parsed) return parsed.error();
    if (!parsed->is_response) return size_t{0};
    cache_.add(*parsed);
    return parsed->answers.size();
}

Result<size_t> DnsLearner::learn(const PacketInfo& info) {
    if (info.src_port != kDnsPort || info.later_fragment) return size_t{0};
    if (info.protocol == Protocol::tcp) return learn_tcp(info);
    if (info.protocol != Protocol::udp) return size_t{0};
    if (info.fragment)
        return make_error("DNS answer from " + endpoint_text(info.src, info.src_port) +
                          ": fragmented, only the first part seen");
    auto learnt = learn_message(info.payload);
    if (!learnt)
        return make_error("DNS answer from " + endpoint_text(info.src, info.src_port) + ": " +
                          learnt.error().message);
    return learnt;
}

Result<size_t> DnsLearner::learn_tcp(const PacketInfo& info) {
    const StreamKey key{info.src, info.dst, info.src_port, info.dst_port};
    auto it = index_.find(key);
    const bool ends = info.tcp_flags & (kTcpFin | kTcpRst);
    if (info.payload.empty()) {
        if (ends && it != index_.end()) {
            streams_.erase(it->second);
            index_.erase(it);
        }
        return size_t{0};
    }
    const uint32_t seq = info.tcp_seq;  // parse_packet read it with the rest of the header
    if (it == index_.end()) {
        streams_.emplace_front(key, DnsTcpStream{});
        it = index_.emplace(key, streams_.begin()).first;
        if (streams_.size() > max_streams_) {
            index_.erase(streams_.back().first);
            streams_.pop_back();
        }
    } else {
        streams_.splice(streams_.begin(), streams_, it->second);
    }
    const auto messages = it->second->second.feed(seq, info.payload);
    if (ends) {
        streams_.erase(it->second);
        index_.erase(it);
    }
    size_t learnt = 0;
    std::optional<Error> first_error;  // a bad message does not hide the good ones after it
    for (const auto& m : messages) {
        auto n = learn_message(m);
        if (n)
            learnt += *n;
        else if (!first_error)
            first_error =
                make_error("DNS answer over TCP from " + endpoint_text(info.src, info.src_port) +
                           ": " + n.error().message);
    }
    if (first_error) return *first_error;
    return learnt;
}

}  // namespace tsnitch
