// What the engine and Daemon tests put around a real Engine: IPv4 packets as the queue delivers
// them, a verdict sink that records what was decided, and an attributor that knows one process.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/attribution/attributor.h"
#include "core/engine/engine.h"

namespace tsnitch::test {

inline constexpr uint8_t kSyn = 0x02, kRst = 0x04, kAck = 0x10;

// An IPv4 packet (protocol `proto`) from src:sport to dst:dport (10.77.0.1 -> 10.77.0.2 unless
// told), `l4tail` after the ports.
inline std::vector<uint8_t> ipv4(uint8_t proto, uint16_t sport, uint16_t dport,
                                 std::vector<uint8_t> l4tail, uint32_t src = 0x0a4d0001,
                                 uint32_t dst = 0x0a4d0002) {
    std::vector<uint8_t> l4 = {uint8_t(sport >> 8), uint8_t(sport), uint8_t(dport >> 8),
                               uint8_t(dport)};
    l4.insert(l4.end(), l4tail.begin(), l4tail.end());
    const size_t total = 20 + l4.size();
    std::vector<uint8_t> b = {
        0x45, 0, uint8_t(total >> 8), uint8_t(total), 0, 1, 0x40, 0, 64, proto, 0, 0};
    for (uint32_t a : {src, dst})
        for (int s = 24; s >= 0; s -= 8)
            b.push_back(uint8_t(a >> s));
    b.insert(b.end(), l4.begin(), l4.end());
    return b;
}

inline std::vector<uint8_t> tcp(uint16_t sport, uint16_t dport, uint8_t flags = kSyn,
                                uint8_t seq = 1) {
    // seq, ack, data offset 5, flags, window, checksum, urgent
    return ipv4(6, sport, dport, {0, 0, 0, seq, 0, 0, 0, 0, 0x50, flags, 0xff, 0xff, 0, 0, 0, 0});
}

inline std::vector<uint8_t> udp(uint16_t sport, uint16_t dport,
                                std::vector<uint8_t> payload = {1, 2}) {
    const size_t len = 8 + payload.size();
    std::vector<uint8_t> tail = {uint8_t(len >> 8), uint8_t(len), 0, 0};
    tail.insert(tail.end(), payload.begin(), payload.end());
    return ipv4(17, sport, dport, tail, 0x0a4d0001, 0x0a4d0002);
}

// A process as an attributor names it: pid and executable.
inline ProcessRef process_at(int pid, std::string path) {
    ProcessInfo p;
    p.pid = pid;
    p.path = std::move(path);
    return std::make_shared<const ProcessInfo>(std::move(p));
}

// Records every verdict, by packet id, with the queue it went to.
struct FakeSink : VerdictSink {
    std::mutex mu;
    std::condition_variable cv;
    std::map<uint32_t, Verdict> verdicts;
    std::map<uint32_t, uint16_t> queues;

    void set_verdict(uint16_t queue, uint32_t id, Verdict v, uint32_t) override {
        std::lock_guard l(mu);
        verdicts[id] = v;
        queues[id] = queue;
        cv.notify_all();
    }
    // The verdict for packet `id`, waiting up to 5 s for the engine's threads.
    std::optional<Verdict> wait(uint32_t id) {
        std::unique_lock l(mu);
        cv.wait_for(l, std::chrono::seconds(5), [&] { return verdicts.contains(id); });
        if (!verdicts.contains(id)) return std::nullopt;
        return verdicts[id];
    }
    bool has(uint32_t id) {
        std::lock_guard l(mu);
        return verdicts.contains(id);
    }
    size_t count() {
        std::lock_guard l(mu);
        return verdicts.size();
    }
};

// Source ports first_port..last_port belong to pid 42, /usr/bin/curl (while `found`); anything
// else is unknown. Counts its calls.
struct FakeAttributor : Attributor {
    std::atomic<bool> found{true};
    std::atomic<int> calls{0};
    uint16_t first_port = 0, last_port = 65535;

    Attribution attribute(const Connection& c) override {
        ++calls;
        Attribution a;
        if (found && c.src_port >= first_port && c.src_port <= last_port) {
            a.process = process_at(42, "/usr/bin/curl");
            a.method = Method::diag;
        }
        return a;
    }
    Method method() const override { return Method::diag; }
};

}  // namespace tsnitch::test
