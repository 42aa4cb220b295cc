// The queues tsnitch reads (DESIGN.md §8): one NFQUEUE per online CPU, numbered from the first
// (QueueNum). The firewall rule spreads new flows over them by the CPU that sends the packet
// (--queue-balance FIRST:LAST --queue-cpu-fanout), and reader i runs pinned to CPU i, so a packet
// is read on the CPU that queued it instead of waking an idle one (measured: 0.79 of the
// no-firewall rate against 0.53 for one unpinned reader).
//
// Readers call on_packet concurrently, one thread per queue; verdicts go back to the packet's own
// queue from any thread (the kernel accepts a verdict only on the socket bound to that queue).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/engine/packet_queue.h"
#include "core/result.h"
#include "core/unique_fd.h"
#include "nfq/nf_queue.h"
#include "nfq/queue_counters.h"

namespace tsnitch::nfq {

struct QueueSetOptions {
    uint16_t first = 0;  // QueueNum
    unsigned count = 0;  // 0: one per online CPU
    bool fail_open = false;
};

// How many queues `count = 0` opens here: the online CPUs (at least 1).
unsigned queues_per_machine();

class QueueSet final : public VerdictSink {
  public:
    // Binds queues first .. first+count-1 (an error names the queue that could not be bound).
    static Result<std::unique_ptr<QueueSet>> open(const QueueSetOptions& o);
    ~QueueSet() override;  // stop()
    QueueSet(const QueueSet&) = delete;
    QueueSet& operator=(const QueueSet&) = delete;

    uint16_t first() const { return first_; }
    unsigned count() const { return static_cast<unsigned>(queues_.size()); }
    uint16_t last() const { return static_cast<uint16_t>(first_ + count() - 1); }
    // "7" or "7-8": the queue numbers, as messages show them.
    std::string numbers() const;

    // Starts one reader thread per queue, reader i pinned to CPU i when this process may run
    // there. `on_packet` runs on the readers, several at once, and must not block.
    void start(std::function<void(const QueuedPacket&)> on_packet);
    // Readable (an eventfd) once a reader stopped on an error; error() says which.
    int failed_fd() const { return failed_.get(); }
    std::string error() const;
    // Ends and joins the readers.
    void stop();
    // With the readers stopped: reads what is still queued, on the calling thread.
    void drain(const std::function<void(const QueuedPacket&)>& on_packet);

    void set_verdict(uint16_t queue, uint32_t id, Verdict v, uint32_t mark) override;

    NfQueueStats stats() const;  // summed over the queues
    // The kernel's own counters of our queues (nfnetlink_queue of this network namespace): what
    // it dropped because a queue was full or could not be delivered to us.
    Result<QueueCounters> kernel_counters(const std::string& proc_net = "/proc/net") const;

  private:
    QueueSet() = default;
    void read_loop(size_t index);

    uint16_t first_ = 0;
    std::vector<std::unique_ptr<NfQueue>> queues_;
    std::vector<std::thread> readers_;
    std::function<void(const QueuedPacket&)> on_packet_;
    std::atomic<bool> stopping_{false};  // the readers end
    UniqueFd failed_;                    // eventfd: a reader failed
    mutable std::mutex error_mu_;
    std::string error_;
};

}  // namespace tsnitch::nfq
