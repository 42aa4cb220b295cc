// `--events FILE`: every decision as one JSON line (DESIGN.md §3), appended and flushed line by
// line within 10 ms, so that a reader (tail -f, a test) sees it at once. "-" is standard output.
//
// The lines are written by a thread of their own: a decision is often made on the queue thread,
// and a write to a disk file now and then waits for the journal for milliseconds, which would
// hold every queued packet that long. At most `max_backlog` lines wait; beyond that lines are
// dropped and counted, and the count goes to standard error when the writer catches up.
#pragma once

#include <condition_variable>
#include <cstdio>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/engine/engine.h"
#include "core/result.h"

namespace tsnitch {

class EventsFile final : public EngineObserver {
  public:
    static Result<std::unique_ptr<EventsFile>> open(const std::string& path,
                                                    size_t max_backlog = 65536);
    // Writes what is still waiting, then closes the file.
    ~EventsFile() override;
    EventsFile(const EventsFile&) = delete;
    EventsFile& operator=(const EventsFile&) = delete;

    void on_decision(const DecisionEvent& e, bool nolog) override;

  private:
    EventsFile(std::FILE* f, bool owned, size_t max_backlog);
    void write_loop();

    std::FILE* f_;
    bool owned_;
    size_t max_backlog_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::string> lines_;
    size_t dropped_ = 0;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace tsnitch
