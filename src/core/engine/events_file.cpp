#include "core/engine/events_file.h"

#include <cerrno>
#include <cstring>

namespace tsnitch {

Result<std::unique_ptr<EventsFile>> EventsFile::open(const std::string& path) {
    if (path == "-") return std::unique_ptr<EventsFile>(new EventsFile(stdout, false));
    std::FILE* f = std::fopen(path.c_str(), "ae");
    if (!f) return make_error("opening events file " + path + ": " + std::strerror(errno), errno);
    return std::unique_ptr<EventsFile>(new EventsFile(f, true));
}

EventsFile::~EventsFile() {
    if (owned_) std::fclose(f_);
}

void EventsFile::on_decision(const DecisionEvent& e, bool nolog) {
    if (nolog) return;
    std::string line = event_json(e);
    line += '\n';
    std::lock_guard lock(mu_);
    std::fwrite(line.data(), 1, line.size(), f_);
    std::fflush(f_);
}

}  // namespace tsnitch
