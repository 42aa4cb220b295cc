#include "core/engine/events_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>

namespace tsnitch {

Result<std::unique_ptr<EventsFile>> EventsFile::open(const std::string& path, size_t max_backlog,
                                                     Report report) {
    if (!report)
        report = [](const std::string& m) { std::fprintf(stderr, "tsnitch: %s\n", m.c_str()); };
    if (path == "-")
        return std::unique_ptr<EventsFile>(
            new EventsFile(path, UniqueFd(), STDOUT_FILENO, max_backlog, std::move(report)));
    UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600));
    if (!fd) {
        const int e = errno;
        if (e == ELOOP) return make_error("events file " + path + ": a symbolic link; refused", e);
        return make_error("opening events file " + path + ": " + std::strerror(e), e);
    }
    struct stat st {};
    if (::fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode))
        return make_error("events file " + path + ": not a regular file", EINVAL);
    const int raw = fd.get();
    return std::unique_ptr<EventsFile>(
        new EventsFile(path, std::move(fd), raw, max_backlog, std::move(report)));
}

EventsFile::EventsFile(std::string path, UniqueFd fd, int out, size_t max_backlog, Report report)
    : path_(std::move(path)),
      owned_(std::move(fd)),
      fd_(out),
      max_backlog_(max_backlog),
      report_(std::move(report)) {
    thread_ = std::thread([this] { write_loop(); });
}

EventsFile::~EventsFile() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
}

void EventsFile::on_decision(const DecisionEvent& e, bool nolog) {
    if (nolog) return;
    std::string line = event_json(e);
    line += '\n';
    bool wake = false;
    {
        std::unique_lock lock(mu_);
        // A writer that is behind but writing is waited for: this is the engine's relay thread,
        // and the wait reaches the packets only through the relay's own bound, so a flood is
        // slowed, not logged in part. Only a writer stuck in one write (a hung file system)
        // loses lines, counted and reported.
        while (lines_.size() >= max_backlog_ && !stopping_ && !writer_stuck_locked())
            room_cv_.wait_for(lock, std::chrono::milliseconds(100));
        if (lines_.size() >= max_backlog_) {
            ++dropped_;
            ++lost_total_;
            return;
        }
        lines_.push_back(std::move(line));
        // The first line wakes the writer; a full backlog ends its gathering at once. Otherwise
        // the writer is busy or gathering and will find the line.
        wake = lines_.size() == 1 || lines_.size() == max_backlog_;
    }
    if (wake) cv_.notify_one();
}

bool EventsFile::writer_stuck_locked() const {
    return writing_since_ && std::chrono::steady_clock::now() - *writing_since_ > kStuckAfter;
}

void EventsFile::drain() {
    std::unique_lock lock(mu_);
    const uint64_t want = handed_ + lines_.size();
    cv_.notify_all();
    written_cv_.wait(lock, [&] { return done_ >= want; });
}

uint64_t EventsFile::lost() const {
    std::lock_guard lock(mu_);
    return lost_total_;
}

// All of `text` (whole lines) or nothing: after a short or failed write the file is cut back to
// where the text began (a disk file; a pipe cannot be cut, but then nothing was written).
bool EventsFile::write_whole(std::string_view text, int& error) {
    const off_t start = owned_ ? ::lseek(fd_, 0, SEEK_END) : -1;
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            error = n < 0 ? errno : ENOSPC;
            if (done > 0 && start >= 0) (void)!::ftruncate(fd_, start);
            return false;
        }
        done += static_cast<size_t>(n);
    }
    return true;
}

// Writes a batch in one system call when it fits; otherwise line by line, so that what fits is
// kept. Returns the lines lost.
uint64_t EventsFile::write_batch(const std::deque<std::string>& batch) {
    size_t size = 0;
    for (const std::string& l : batch)
        size += l.size();
    std::string all;
    all.reserve(size);
    for (const std::string& l : batch)
        all += l;
    int error = 0;
    uint64_t lost = 0;
    if (!write_whole(all, error)) {
        for (const std::string& l : batch)
            if (!write_whole(l, error)) ++lost;
    }
    if (lost > 0) {
        if (!failing_)
            report_("events file " + path_ + ": " + std::strerror(error) +
                    "; events are lost (and counted) until it can be written again");
        failing_ = true;
        lost_failing_ += lost;
    } else if (failing_) {
        report_("events file " + path_ + ": writing again; " + std::to_string(lost_failing_) +
                " events were lost");
        failing_ = false;
        lost_failing_ = 0;
    }
    return lost;
}

void EventsFile::write_loop() {
    std::unique_lock lock(mu_);
    for (;;) {
        cv_.wait(lock, [this] { return stopping_ || !lines_.empty(); });
        if (lines_.empty() && stopping_) return;
        // Lines come in bursts: gathering them for a moment costs a reader 10 ms at most and
        // saves a wake-up per decision under load. A full backlog is written at once.
        cv_.wait_for(lock, std::chrono::milliseconds(10),
                     [this] { return stopping_ || lines_.size() >= max_backlog_; });
        std::deque<std::string> batch;
        batch.swap(lines_);
        handed_ += batch.size();
        const size_t dropped = dropped_;
        dropped_ = 0;
        writing_since_ = std::chrono::steady_clock::now();
        lock.unlock();
        room_cv_.notify_all();
        if (dropped)
            report_("events file " + path_ + ": " + std::to_string(dropped) +
                    " events dropped (a write was stuck for over " +
                    std::to_string(kStuckAfter.count()) + " s)");
        const uint64_t lost = write_batch(batch);
        lock.lock();
        writing_since_.reset();
        lost_total_ += lost;
        done_ += batch.size();
        written_cv_.notify_all();
    }
}

}  // namespace tsnitch
