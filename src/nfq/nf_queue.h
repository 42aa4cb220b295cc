// One NFQUEUE queue over libnetfilter_queue's libmnl API: bound on open, unbound on destruction.
// Its reader blocks in receive(); verdicts may be sent from any thread at any later time (each is
// one sendto on the same netlink socket, which the kernel requires).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include "core/engine/packet_queue.h"
#include "core/result.h"

struct mnl_socket;

namespace tsnitch::nfq {

struct NfQueueOptions {
    uint16_t queue_num = 0;
    bool fail_open = false;        // packets pass when the queue is full
    uint32_t max_len = 8192;       // packets the kernel holds for us
    uint32_t copy_range = 0xffff;  // whole packets: DNS answers can be large
    int rcvbuf_bytes = 16 << 20;
};

struct NfQueueStats {
    uint64_t packets = 0;
    uint64_t enobufs = 0;  // times the socket buffer overflowed (packets were lost to us)
    uint64_t verdict_errors = 0;
    uint64_t malformed = 0;  // netlink messages that carried no readable packet
};

class NfQueue final : public VerdictSink {
  public:
    static Result<std::unique_ptr<NfQueue>> open(const NfQueueOptions& o);
    ~NfQueue() override;
    NfQueue(const NfQueue&) = delete;
    NfQueue& operator=(const NfQueue&) = delete;

    // Reads every datagram that is ready and calls on_packet for each packet. With `wait`, first
    // blocks until one is (or wake() is called): one system call per wake-up of the reader, where
    // epoll_wait and then a read took two.
    Status receive(const std::function<void(const QueuedPacket&)>& on_packet, bool wait = false);
    // Makes a receive() that blocks on another thread return: asks the kernel for an
    // acknowledgement on this socket, which receive() reads and skips.
    void wake();
    // This queue's packets only: `queue` is this queue's number.
    void set_verdict(uint16_t queue, uint32_t id, Verdict v, uint32_t mark) override;
    uint16_t queue_num() const { return queue_num_; }

    NfQueueStats stats() const;

  private:
    NfQueue() = default;
    Status send_config(uint8_t cmd, const NfQueueOptions* params);

    mnl_socket* nl_ = nullptr;
    uint32_t portid_ = 0;
    uint16_t queue_num_ = 0;
    bool bound_ = false;
    std::vector<std::vector<char>> bufs_;
    std::atomic<uint64_t> packets_{0};
    std::atomic<uint64_t> enobufs_{0};
    std::atomic<uint64_t> verdict_errors_{0};
    std::atomic<uint64_t> malformed_{0};
};

}  // namespace tsnitch::nfq
