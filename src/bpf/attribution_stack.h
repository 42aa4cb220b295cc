// The attribution ladder as the engine builds it for a configured method (DESIGN.md §6): with
// `ebpf`, the eBPF rung first when the module loads and attaches; when it does not, the diag
// ladder alone, and `notice` says why — once, for the log, the status bar and `tsnitch check`.
#pragma once

#include <memory>
#include <string>

#include "bpf/bpf_attributor.h"
#include "bpf/bpf_monitor.h"
#include "core/attribution/attribution_ladder.h"

namespace tsnitch::bpf {

struct AttributionStack {
    std::unique_ptr<BpfMonitor> monitor;        // null when eBPF is not in use
    std::unique_ptr<BpfAttributor> ebpf;        // null when eBPF is not in use
    std::unique_ptr<BpfMemoryRung> fast;        // ebpf's maps and cache only, for the readers
    std::unique_ptr<AttributionLadder> ladder;  // what the engine calls
    std::string notice;  // "eBPF unavailable (REASON); attributing with diag", or empty
};

// `method`: the configured ProcMonitorMethod. diag and proc never load the module. Every rung
// asks `processes`, which must outlive the stack.
AttributionStack make_attribution_stack(Method method, ProcessModel& processes,
                                        const BpfOptions& options = {});

}  // namespace tsnitch::bpf
