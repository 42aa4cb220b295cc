#include "tui/update_queue.h"

#include <doctest/doctest.h>
#include <poll.h>

#include <thread>

using namespace tsnitch;
using namespace tsnitch::tui;

namespace {

bool readable(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

DecisionEvent event_to(uint16_t port) {
    DecisionEvent e;
    e.connection.dst_port = port;
    return e;
}

}  // namespace

TEST_CASE("the UI is woken when an engine thread posts, and take() clears the wake-up") {
    UpdateQueue q;
    CHECK_FALSE(readable(q.fd()));
    std::thread engine([&] {
        q.add_event(event_to(443));
        EngineStatus st;
        st.intercepting = true;
        q.set_status(st);
    });
    engine.join();
    CHECK(readable(q.fd()));
    BackendUpdate u = q.take();
    CHECK_FALSE(readable(q.fd()));
    REQUIRE(u.events.size() == 1);
    CHECK(u.events[0].connection.dst_port == 443);
    REQUIRE(u.status);
    CHECK(u.status->intercepting);
    CHECK_FALSE(u.pending);
    CHECK_FALSE(u.rules);
    // Nothing new: an empty update.
    u = q.take();
    CHECK(u.events.empty());
    CHECK_FALSE(u.status);
}

TEST_CASE("lists are whole: the newest list replaces an older one not yet taken") {
    UpdateQueue q;
    std::vector<PendingPrompt> one(1), two(2);
    q.set_pending(one);
    q.set_pending(two);
    q.set_rules({});
    const BackendUpdate u = q.take();
    REQUIRE(u.pending);
    CHECK(u.pending->size() == 2);
    REQUIRE(u.rules);
    CHECK(u.rules->empty());
}

TEST_CASE("a UI that does not drain cannot make the queue grow without bound") {
    UpdateQueue q(3);
    for (uint16_t p = 1; p <= 5; ++p)
        q.add_event(event_to(p));
    const BackendUpdate u = q.take();
    REQUIRE(u.events.size() == 3);
    CHECK(u.events.front().connection.dst_port == 3);  // the oldest two were dropped
    CHECK(q.dropped() == 2);
}

TEST_CASE("log lines reach the UI in order") {
    UpdateQueue q;
    q.add_log({{}, LogLevel::info, "one"});
    q.add_log({{}, LogLevel::error, "two"});
    const BackendUpdate u = q.take();
    REQUIRE(u.log.size() == 2);
    CHECK(u.log[0].text == "one");
    CHECK(u.log[1].level == LogLevel::error);
}

TEST_CASE("stop reaches the UI") {
    UpdateQueue q;
    q.stop();
    CHECK(readable(q.fd()));
    CHECK(q.take().stop);
}
