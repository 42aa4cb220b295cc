// The kernel's counters of NFQUEUE queues, from /proc/net/netfilter/nfnetlink_queue (one line per
// bound queue in the reader's network namespace), parsed as a pure function:
//   queue_number peer_portid queue_total copy_mode copy_range queue_dropped user_dropped
//   id_sequence 1
// queue_dropped: packets dropped because the queue held max_len already (without fail-open);
// user_dropped: packets the kernel could not deliver to the reader's socket (its buffer was full).
// Neither is visible to the reader otherwise.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"

namespace tsnitch::nfq {

struct QueueCounter {
    uint16_t queue = 0;
    uint32_t waiting = 0;  // queue_total: packets held now
    uint64_t queue_dropped = 0;
    uint64_t user_dropped = 0;
};

struct QueueCounters {
    std::vector<QueueCounter> queues;  // in the order of the file
    uint64_t queue_dropped() const;
    uint64_t user_dropped() const;
    uint64_t dropped() const { return queue_dropped() + user_dropped(); }
};

// Lines that do not have the expected numbers are an error naming the line.
Result<QueueCounters> parse_queue_counters(std::string_view text);

// Only the queues first..last.
QueueCounters counters_of_range(const QueueCounters& all, uint16_t first, uint16_t last);

// "3 dropped by the full kernel queue, 1 lost on the way to tsnitch" style text for logs and the
// exit summary; "no packets dropped by the kernel queues" when both are 0.
std::string describe_drops(const QueueCounters& c);

}  // namespace tsnitch::nfq
