// The UI's own view of the daemon, built from the DaemonEvents it receives (ui.cpp): the data
// that the panels draw. Where the person is in it (selections, filters, dialogs) is the panels'.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include "core/daemon/records.h"
#include "tui/process_list.h"
#include "tui/tui.h"
#include "tui/ui_records.h"
#include "tui/view_model.h"

namespace tsnitch::tui {

inline constexpr size_t kMaxLogLines = 1000;

struct UiModel {
    explicit UiModel(const TuiOptions& o) : options(o), log(o.max_events) {}

    TuiOptions options;
    StatusRecord status;
    EventLog log;
    std::vector<RuleSummary> rules;      // by name
    std::vector<PendingPrompt> pending;  // oldest first, without those answered here
    std::vector<uint64_t> answered;      // answered here, until the daemon drops them too
    std::deque<LogLine> log_lines;       // the newest (at most kMaxLogLines), oldest first
    // The newest socket table (while the Sockets tab asks for it), and the rates it gave.
    std::shared_ptr<const SocketTableSnapshot> table;
    std::string table_error;
    TrafficRates rates;  // bytes/s between the last two tables
    HostNameLookup host_names;
};

}  // namespace tsnitch::tui
