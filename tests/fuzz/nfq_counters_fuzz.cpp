// /proc/net/netfilter/nfnetlink_queue text, as housekeeping reads it every second: any text gives
// counters or an error, never a crash, and the sums are the sums of the lines.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "nfq/queue_counters.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view text(reinterpret_cast<const char*>(data), size);
    auto c = tsnitch::nfq::parse_queue_counters(text);
    if (!c) return 0;
    uint64_t dropped = 0;
    for (const auto& q : c->queues)
        dropped += q.queue_dropped + q.user_dropped;
    if (dropped != c->dropped()) std::abort();
    const auto ours = tsnitch::nfq::counters_of_range(*c, 0, 1);
    for (const auto& q : ours.queues)
        if (q.queue > 1) std::abort();
    (void)tsnitch::nfq::describe_drops(ours);
    return 0;
}
