// The DNS parsing of answers that pass the firewall: any bytes must give a message or an Error,
// and whatever is accepted must keep the promises that the cache and the front ends rely on.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "core/dns/dns_cache.h"
#include "core/dns/dns_learner.h"
#include "core/dns/dns_message.h"
#include "core/dns/dns_tcp.h"
#include "core/packet/packet.h"
#include "core/text.h"

using namespace tsnitch;

namespace {

void check(bool ok) {
    if (!ok) std::abort();
}

void check_name(const std::string& name) {
    check(!name.empty() && name.size() <= 2 * 255);
    for (char c : printable_text(name, false))
        check(c >= 0x20 && c < 0x7f);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::span<const uint8_t> bytes(data, size);

    auto message = parse_dns_message(bytes);
    if (message) {
        for (const DnsAnswer& a : message->answers) {
            check(a.name == message->qname);
            check_name(a.name);
            check_name(a.canonical);
            check(a.ttl <= 0x7fffffffu);
        }
        DnsCache cache(DnsCache::Options{.max_entries = 4});
        DnsMessage response = *message;
        response.is_response = true;
        cache.add(response);
        check(cache.size() <= 4);
        if (!response.answers.empty())
            check(cache.lookup(response.answers.back().address) == message->qname);
    }

    auto qname = dns_query_name(bytes);
    if (qname) check_name(*qname);

    // The stream, fed in pieces, finds the same messages as one split of the whole.
    const DnsTcpSegment whole = split_dns_tcp(bytes);
    size_t counted = whole.incomplete;
    for (auto m : whole.messages)
        counted += 2 + m.size();
    check(counted == size);
    DnsTcpStream stream;
    std::vector<std::vector<uint8_t>> pieces;
    const size_t step = size > 0 ? 1 + data[0] % 97 : 1;
    const uint32_t seq0 = size > 1 ? 0xffffff00u + data[1] : 0;  // wraps around
    for (size_t at = 0; at < size; at += step) {
        const auto piece = bytes.subspan(at, std::min(step, size - at));
        for (auto& m : stream.feed(seq0 + static_cast<uint32_t>(at), piece))
            pieces.push_back(std::move(m));
        stream.feed(seq0 + static_cast<uint32_t>(at), piece);  // a retransmission changes nothing
    }
    check(!stream.lost());
    check(pieces.size() == whole.messages.size());
    for (size_t i = 0; i < pieces.size(); ++i)
        check(std::equal(pieces[i].begin(), pieces[i].end(), whole.messages[i].begin(),
                         whole.messages[i].end()));

    // The whole input as an IP packet from port 53, twice (the second a retransmission).
    if (auto packet = parse_packet(bytes)) {
        DnsCache learnt;
        DnsLearner learner(learnt, 2);
        (void)learner.learn(*packet);
        (void)learner.learn(*packet);
        check(learner.tcp_streams() <= 2);
    }
    return 0;
}
