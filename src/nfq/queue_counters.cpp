#include "nfq/queue_counters.h"

#include <charconv>

namespace tsnitch::nfq {

namespace {

bool next_number(std::string_view line, size_t& pos, uint64_t& out) {
    while (pos < line.size() && (line[pos] == ' ' || line[pos] == '\t'))
        ++pos;
    if (pos >= line.size()) return false;
    const char* begin = line.data() + pos;
    const char* end = line.data() + line.size();
    const auto [ptr, ec] = std::from_chars(begin, end, out);
    if (ec != std::errc() || ptr == begin) return false;
    if (ptr != end && *ptr != ' ' && *ptr != '\t') return false;
    pos += static_cast<size_t>(ptr - begin);
    return true;
}

}  // namespace

uint64_t QueueCounters::queue_dropped() const {
    uint64_t n = 0;
    for (const QueueCounter& q : queues)
        n += q.queue_dropped;
    return n;
}

uint64_t QueueCounters::user_dropped() const {
    uint64_t n = 0;
    for (const QueueCounter& q : queues)
        n += q.user_dropped;
    return n;
}

Result<QueueCounters> parse_queue_counters(std::string_view text) {
    QueueCounters c;
    size_t start = 0;
    size_t line_no = 0;
    while (start < text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        const std::string_view line = text.substr(start, end - start);
        start = end + 1;
        ++line_no;
        if (line.find_first_not_of(" \t") == std::string_view::npos) continue;
        // queue_number peer_portid queue_total copy_mode copy_range queue_dropped user_dropped
        // id_sequence and a constant 1; the last ones are not needed.
        uint64_t f[7] = {};
        size_t pos = 0;
        for (uint64_t& v : f) {
            if (!next_number(line, pos, v)) {
                return make_error("nfnetlink_queue line " + std::to_string(line_no) +
                                  ": expected numbers, got '" + std::string(line.substr(0, 80)) +
                                  "'");
            }
        }
        if (f[0] > 65535) {
            return make_error("nfnetlink_queue line " + std::to_string(line_no) +
                              ": queue number " + std::to_string(f[0]) + " out of range");
        }
        QueueCounter q;
        q.queue = static_cast<uint16_t>(f[0]);
        q.waiting = static_cast<uint32_t>(f[2]);
        q.queue_dropped = f[5];
        q.user_dropped = f[6];
        c.queues.push_back(q);
    }
    return c;
}

QueueCounters counters_of_range(const QueueCounters& all, uint16_t first, uint16_t last) {
    QueueCounters r;
    for (const QueueCounter& q : all.queues)
        if (q.queue >= first && q.queue <= last) r.queues.push_back(q);
    return r;
}

std::string describe_drops(const QueueCounters& c) {
    if (c.dropped() == 0) return "no packets dropped by the kernel queues";
    return std::to_string(c.queue_dropped()) + " packets dropped by full kernel queues, " +
           std::to_string(c.user_dropped()) + " lost on the way to tsnitch";
}

}  // namespace tsnitch::nfq
