#include "tui/status_line.h"

#include <algorithm>
#include <string>

#include "tui/safe_text.h"

namespace tsnitch::tui {

namespace {

void draw_monitor_status(Screen& s, const UiModel& st) {
    const std::string sep = " " + std::string(s.glyphs().sep) + " ";
    std::string text = " tsnitch monitor" + sep + "no interception";
    if (st.table) {
        text += sep + std::to_string(st.table->processes.size()) + " processes, " +
                std::to_string(st.table->sockets) + " sockets" + sep + "refresh " +
                std::to_string(st.table->cpu.count() / 1000) + "." +
                std::to_string(st.table->cpu.count() / 100 % 10) + " ms CPU";
    }
    s.fill(0, 0, s.cols(), s.styles().status);
    s.put(0, 0, text, s.cols(), s.styles().status);
}

}  // namespace

void draw_status_line(Screen& s, const UiModel& st) {
    if (st.options.monitor) {
        draw_monitor_status(s, st);
        return;
    }
    const StatusRecord& e = st.status;
    // The daemon uses one queue per CPU from the first: "queues 0-3".
    const unsigned first = e.queues.empty() ? 0 : e.queues.front();
    const size_t count = std::max<size_t>(1, e.queues.size());
    const int w = s.cols();
    const std::string sep = " " + std::string(s.glyphs().sep) + " ";
    const std::string counts_long = "allowed " + std::to_string(e.allowed) + "  denied " +
                                    std::to_string(e.denied) + "  rejected " +
                                    std::to_string(e.rejected);
    const std::string counts_short = "allow " + std::to_string(e.allowed) + " deny " +
                                     std::to_string(e.denied) + " reject " +
                                     std::to_string(e.rejected);
    const std::string state = e.intercepting ? std::string(s.glyphs().on) + " intercepting"
                                             : std::string(s.glyphs().off) + " NOT intercepting";
    const std::string method = std::string(method_name(e.method));
    const std::string rules =
        std::to_string(e.rule_count) + " rules" +
        (e.broken_rule_files ? " (" + std::to_string(e.broken_rule_files) + " broken, see log)"
                             : "");
    const std::string pending = std::to_string(e.prompts_open) + " pending";
    const std::string fw = e.firewall.empty() ? "no firewall" : s.safe(e.firewall);
    const std::string queues = count > 1
                                   ? std::to_string(first) + "-" + std::to_string(first + count - 1)
                                   : std::to_string(first);
    // Packets the kernel dropped are shown in every width: traffic was lost.
    const std::string dropped =
        e.queue_drops ? " dropped " + std::to_string(e.queue_drops) : std::string();
    const std::string full = " tsnitch" + sep + state + " (queue" + (count > 1 ? "s " : " ") +
                             queues + ")" + sep + "attribution " + method + sep + fw + sep + rules +
                             sep + pending + sep + counts_long + dropped;
    const std::string medium = " " + state + " q" + queues + "  " + method + "  " + fw + "  " +
                               rules + "  " + pending + "  " + counts_short + dropped;
    const std::string shorter = " " + std::string(e.intercepting ? s.glyphs().on : s.glyphs().off) +
                                " q" + queues + "  " + method + "  " + fw + "  " + rules + "  " +
                                pending + "  " + counts_short + dropped;
    const std::string tiny = " " + std::string(e.intercepting ? s.glyphs().on : s.glyphs().off) +
                             " q" + queues + " " + method + " " + std::to_string(e.prompts_open) +
                             " pending " + counts_short + dropped;
    s.fill(0, 0, w, s.styles().status);
    std::string text = tiny;
    for (const std::string* t : {&full, &medium, &shorter}) {
        if (display_width(*t) <= w) {
            text = *t;
            break;
        }
    }
    s.put(0, 0, text, w, s.styles().status | (e.intercepting ? 0 : A_BOLD));
}

}  // namespace tsnitch::tui
