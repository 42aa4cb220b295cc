// `--events FILE`: every decision as one JSON line (DESIGN.md §3), appended and flushed per line
// so that a reader (tail -f, a test) sees it at once. "-" is standard output.
#pragma once

#include <cstdio>
#include <memory>
#include <mutex>
#include <string>

#include "core/engine/engine.h"
#include "core/result.h"

namespace tsnitch {

class EventsFile final : public EngineObserver {
  public:
    static Result<std::unique_ptr<EventsFile>> open(const std::string& path);
    ~EventsFile() override;
    EventsFile(const EventsFile&) = delete;
    EventsFile& operator=(const EventsFile&) = delete;

    void on_decision(const DecisionEvent& e, bool nolog) override;

  private:
    EventsFile(std::FILE* f, bool owned) : f_(f), owned_(owned) {}
    std::mutex mu_;
    std::FILE* f_;
    bool owned_;
};

}  // namespace tsnitch
