#include "bpf/attribution_stack.h"

namespace tsnitch::bpf {

AttributionStack make_attribution_stack(Method method, ProcessModel& processes,
                                        const BpfOptions& options) {
    AttributionStack s;
    AttributionLadder::Options ladder;
    ladder.method = method == Method::proc ? Method::proc : Method::diag;
    if (method == Method::ebpf) {
        auto monitor = BpfMonitor::create(processes, options);
        if (monitor) {
            s.monitor = std::move(*monitor);
            s.ebpf = std::make_unique<BpfAttributor>(*s.monitor, processes);
            s.fast = std::make_unique<BpfMemoryRung>(*s.ebpf);
            ladder.first_rung = s.ebpf.get();
        } else {
            s.notice = "eBPF unavailable (" + monitor.error().message + "); attributing with diag";
        }
    }
    s.ladder = std::make_unique<AttributionLadder>(processes, ladder);
    if (s.notice.empty() && !s.ladder->fallback().empty()) s.notice = s.ladder->fallback();
    return s;
}

}  // namespace tsnitch::bpf
