// `--events FILE`: every decision as one JSON line (DESIGN.md §3), appended and flushed line by
// line within 10 ms of hearing of it (the engine's relay tells decisions in batches of up to
// 2 ms), so that a reader (tail -f, a test) sees it at once. "-" is standard output.
//
// The lines are written by a thread of their own: decisions are told on the engine's relay
// thread, which also feeds the front ends, and a write to a disk file now and then waits for the
// journal for milliseconds, which would hold every front end that long. At most `max_backlog` lines
// wait; beyond that the relay waits while the writer writes (a flood is slowed, not logged in
// part), and only a writer stuck in one write for a second loses lines: dropped, counted, and
// the count reported when it catches up.
//
// A write that fails (a full disk) loses its line, never leaves part of it: the file is cut back
// to the end of the last whole line. The first failure is reported once, the lost lines are
// counted, and when writing works again the count is reported and the file goes on.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>

#include "core/engine/engine.h"
#include "core/result.h"
#include "core/unique_fd.h"

namespace tsnitch {

class EventsFile final : public EngineObserver {
  public:
    // Where the writer's problems go (one line, no trailing newline); default: standard error.
    using Report = std::function<void(const std::string&)>;

    // The file is appended to; when created it gets mode 0600 whatever the umask. A symbolic
    // link is refused (an attacker's link must not aim our writes at another file).
    static Result<std::unique_ptr<EventsFile>> open(const std::string& path,
                                                    size_t max_backlog = 65536, Report report = {});
    // Writes what is still waiting, then closes the file.
    ~EventsFile() override;
    EventsFile(const EventsFile&) = delete;
    EventsFile& operator=(const EventsFile&) = delete;

    void on_decision(const DecisionEvent& e, bool nolog) override;

    // Returns when every line handed over so far is written or lost.
    void drain();
    // Lines lost so far: failed writes and a full backlog.
    uint64_t lost() const;

  private:
    EventsFile(std::string path, UniqueFd fd, int out, size_t max_backlog, Report report);
    void write_loop();
    bool write_whole(std::string_view text, int& error);
    uint64_t write_batch(const std::deque<std::string>& batch);
    // The writer has been in one batch's write for longer than kStuckAfter.
    bool writer_stuck_locked() const;
    static constexpr std::chrono::seconds kStuckAfter{1};

    std::string path_;
    UniqueFd owned_;  // empty for standard output
    int fd_;
    size_t max_backlog_;
    Report report_;
    mutable std::mutex mu_;
    std::condition_variable cv_;
    std::condition_variable written_cv_;
    std::condition_variable room_cv_;  // the writer took the waiting lines
    std::optional<std::chrono::steady_clock::time_point> writing_since_;  // in a write since
    std::deque<std::string> lines_;
    size_t dropped_ = 0;   // backlog full while a write was stuck, not yet reported
    uint64_t handed_ = 0;  // lines taken by the writer or dropped
    uint64_t done_ = 0;    // of those, written or lost
    uint64_t lost_total_ = 0;
    bool stopping_ = false;
    // Writer thread only:
    bool failing_ = false;       // the last write failed; said once
    uint64_t lost_failing_ = 0;  // lines lost since
    std::thread thread_;
};

}  // namespace tsnitch
