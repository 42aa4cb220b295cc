#include "core/engine/events_file.h"

#include <cerrno>
#include <chrono>
#include <cstring>

namespace tsnitch {

Result<std::unique_ptr<EventsFile>> EventsFile::open(const std::string& path, size_t max_backlog) {
    if (path == "-") return std::unique_ptr<EventsFile>(new EventsFile(stdout, false, max_backlog));
    std::FILE* f = std::fopen(path.c_str(), "ae");
    if (!f) return make_error("opening events file " + path + ": " + std::strerror(errno), errno);
    return std::unique_ptr<EventsFile>(new EventsFile(f, true, max_backlog));
}

EventsFile::EventsFile(std::FILE* f, bool owned, size_t max_backlog)
    : f_(f), owned_(owned), max_backlog_(max_backlog) {
    thread_ = std::thread([this] { write_loop(); });
}

EventsFile::~EventsFile() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (owned_) std::fclose(f_);
}

void EventsFile::on_decision(const DecisionEvent& e, bool nolog) {
    if (nolog) return;
    std::string line = event_json(e);
    line += '\n';
    bool wake = false;
    {
        std::lock_guard lock(mu_);
        if (lines_.size() >= max_backlog_) {
            ++dropped_;
            return;
        }
        wake = lines_.empty();  // otherwise the writer is busy and will find it
        lines_.push_back(std::move(line));
    }
    if (wake) cv_.notify_one();
}

void EventsFile::write_loop() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return stopping_ || !lines_.empty(); });
        if (lines_.empty() && stopping_) return;
        // Lines come in bursts: gathering them for a moment costs a reader 10 ms at most and
        // saves a wake-up and a write per decision under load.
        cv_.wait_for(lock, std::chrono::milliseconds(10), [this] { return stopping_; });
        std::deque<std::string> batch;
        batch.swap(lines_);
        const size_t dropped = dropped_;
        dropped_ = 0;
        lock.unlock();
        if (dropped) std::fprintf(stderr, "tsnitch: events file: %zu events dropped\n", dropped);
        for (const std::string& l : batch)
            std::fwrite(l.data(), 1, l.size(), f_);
        std::fflush(f_);
        lock.lock();
    }
}

}  // namespace tsnitch
