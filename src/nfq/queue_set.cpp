#include "nfq/queue_set.h"

#include <pthread.h>
#include <sched.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/attribution/proc_io.h"

namespace tsnitch::nfq {

namespace {

void wake(int event_fd) {
    const uint64_t one = 1;
    (void)!::write(event_fd, &one, sizeof one);
}

}  // namespace

unsigned queues_per_machine() {
    const long n = sysconf(_SC_NPROCESSORS_ONLN);
    return n > 0 ? static_cast<unsigned>(n) : 1;
}

Result<std::unique_ptr<QueueSet>> QueueSet::open(const QueueSetOptions& o) {
    const unsigned count = o.count > 0 ? o.count : queues_per_machine();
    if (static_cast<unsigned>(o.first) + count - 1 > 65535) {
        return make_error("NFQUEUE " + std::to_string(o.first) + ": " + std::to_string(count) +
                          " queues (one per CPU) would end past 65535; choose a lower QueueNum");
    }
    std::unique_ptr<QueueSet> set(new QueueSet());
    set->first_ = o.first;
    for (unsigned i = 0; i < count; ++i) {
        NfQueueOptions qo;
        qo.queue_num = static_cast<uint16_t>(o.first + i);
        qo.fail_open = o.fail_open;
        auto q = NfQueue::open(qo);
        if (!q) return q.error();
        set->queues_.push_back(std::move(*q));
    }
    set->failed_ = UniqueFd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!set->failed_) return make_error(std::string("eventfd: ") + std::strerror(errno), errno);
    return set;
}

QueueSet::~QueueSet() {
    stop();
}

std::string QueueSet::numbers() const {
    if (count() == 1) return std::to_string(first_);
    return std::to_string(first_) + "-" + std::to_string(last());
}

void QueueSet::start(std::function<void(const QueuedPacket&)> on_packet) {
    on_packet_ = std::move(on_packet);
    stopping_.store(false, std::memory_order_release);
    for (size_t i = 0; i < queues_.size(); ++i)
        readers_.emplace_back([this, i] { read_loop(i); });
}

void QueueSet::read_loop(size_t index) {
    // --queue-cpu-fanout sends what CPU i queues to queue first+i (i modulo the count): reading
    // it on CPU i keeps the packet on the CPU that is already awake. A CPU this process may not
    // use leaves the reader unpinned.
    if (index < CPU_SETSIZE) {
        cpu_set_t cpus;
        CPU_ZERO(&cpus);
        CPU_SET(index, &cpus);
        (void)pthread_setaffinity_np(pthread_self(), sizeof cpus, &cpus);
    }
    NfQueue& q = *queues_[index];
    const auto fail = [this](const std::string& message) {
        {
            std::lock_guard lock(error_mu_);
            if (error_.empty()) error_ = message;
        }
        wake(failed_.get());
    };
    // stop() sets stopping_ first and then wakes each reader's blocking receive().
    while (!stopping_.load(std::memory_order_acquire)) {
        if (auto s = q.receive(on_packet_, /*wait=*/true); !s) return fail(s.error().message);
    }
}

std::string QueueSet::error() const {
    std::lock_guard lock(error_mu_);
    return error_;
}

void QueueSet::stop() {
    if (readers_.empty()) return;
    stopping_.store(true, std::memory_order_release);
    for (auto& q : queues_)
        q->wake();
    for (std::thread& t : readers_)
        t.join();
    readers_.clear();
}

void QueueSet::drain(const std::function<void(const QueuedPacket&)>& on_packet) {
    for (auto& q : queues_)
        (void)q->receive(on_packet);
}

void QueueSet::set_verdict(uint16_t queue, uint32_t id, Verdict v, uint32_t mark) {
    const unsigned index = static_cast<unsigned>(queue - first_);
    if (queue < first_ || index >= queues_.size()) return;  // not ours: nothing to answer
    queues_[index]->set_verdict(queue, id, v, mark);
}

NfQueueStats QueueSet::stats() const {
    NfQueueStats sum;
    for (const auto& q : queues_) {
        const NfQueueStats s = q->stats();
        sum.packets += s.packets;
        sum.enobufs += s.enobufs;
        sum.verdict_errors += s.verdict_errors;
    }
    return sum;
}

Result<QueueCounters> QueueSet::kernel_counters(const std::string& proc_net) const {
    const std::string path = proc_net + "/netfilter/nfnetlink_queue";
    auto text = read_text_file(path, 4 << 20);  // 65536 queues fit
    if (!text) return text.error();
    auto all = parse_queue_counters(*text);
    if (!all) return make_error(path + ": " + all.error().message);
    return counters_of_range(*all, first_, last());
}

}  // namespace tsnitch::nfq
