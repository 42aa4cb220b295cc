// The kernel's NFQUEUE counters (/proc/net/netfilter/nfnetlink_queue), parsed from text.
#include "nfq/queue_counters.h"
#include <doctest/doctest.h>

using namespace tsnitch::nfq;

namespace {

// As nfnetlink_queue.c prints it: "%5u %6u %5u %1u %5u %5u %5u %8u %2d\n".
constexpr const char* kTwoQueues =
    "    0  12345     3 2 65535 49894    12   123456  1\n"
    "    1  12346     0 2 65535     6     0      789  1\n"
    "    9  22222     0 2 65535   100     7        1  1\n";

}  // namespace

TEST_CASE("the counters of each queue are read: held, dropped when full, lost to the reader") {
    auto c = parse_queue_counters(kTwoQueues);
    REQUIRE(c);
    REQUIRE(c->queues.size() == 3);
    CHECK(c->queues[0].queue == 0);
    CHECK(c->queues[0].waiting == 3u);
    CHECK(c->queues[0].queue_dropped == 49894u);
    CHECK(c->queues[0].user_dropped == 12u);
    CHECK(c->queues[1].queue == 1);
    CHECK(c->queue_dropped() == 49894u + 6 + 100);
    CHECK(c->user_dropped() == 19u);
}

TEST_CASE("only our queues count: another program's queue is left out") {
    auto c = parse_queue_counters(kTwoQueues);
    REQUIRE(c);
    const QueueCounters ours = counters_of_range(*c, 0, 1);
    CHECK(ours.queues.size() == 2);
    CHECK(ours.queue_dropped() == 49900u);
    CHECK(ours.user_dropped() == 12u);
    CHECK(describe_drops(ours) ==
          "49900 packets dropped by full kernel queues, 12 lost on the way to tsnitch");
    CHECK(describe_drops(counters_of_range(*c, 2, 5)) == "no packets dropped by the kernel queues");
}

TEST_CASE("no queue bound is an empty file, not an error") {
    auto c = parse_queue_counters("");
    REQUIRE(c);
    CHECK(c->queues.empty());
    CHECK(c->dropped() == 0u);
}

TEST_CASE("a line that is not numbers is an error naming the line") {
    auto c = parse_queue_counters("    0  1 0 2 65535 0 0 1 1\n    x  y\n");
    REQUIRE_FALSE(c);
    CHECK(c.error().message.find("line 2") != std::string::npos);
    CHECK_FALSE(parse_queue_counters("    0  1 0 2\n"));               // too few fields
    CHECK_FALSE(parse_queue_counters("70000 1 0 2 65535 0 0 1 1\n"));  // no such queue
    CHECK_FALSE(parse_queue_counters("    0  1 0 2 65535 -5 0 1 1\n"));
}
