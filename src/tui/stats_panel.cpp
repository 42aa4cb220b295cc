#include "tui/stats_panel.h"

#include <cstdio>

#include "tui/safe_text.h"

namespace tsnitch::tui {

namespace {

void draw_table(Screen& s, int y, int x, int w, int h, std::string_view title,
                const std::vector<Counted>& rows) {
    if (h < 2 || w < 12) return;
    s.fill(y, x, w, s.styles().header);
    s.put(y, x, std::string(title), w, s.styles().header);
    const std::string head = "count blocked";
    s.put(y, x + w - display_width(head), head, display_width(head), s.styles().header);
    for (int i = 0; i < h - 1; ++i) {
        if (static_cast<size_t>(i) >= rows.size()) {
            if (i == 0) s.put(y + 1, x, "(none yet)", w, s.styles().dim);
            break;
        }
        const Counted& c = rows[static_cast<size_t>(i)];
        char nums[32];
        std::snprintf(nums, sizeof nums, "%5llu %7llu", static_cast<unsigned long long>(c.count),
                      static_cast<unsigned long long>(c.blocked));
        const int nw = display_width(nums);
        s.put(y + 1 + i, x, truncate_left(s.safe(c.key), w - nw - 1, s.glyphs().ellipsis),
              w - nw - 1, s.styles().normal);
        s.put(y + 1 + i, x + w - nw, nums, nw, c.blocked ? s.styles().warn : s.styles().normal);
    }
}

}  // namespace

void StatsPanel::draw(Screen& s, const UiModel& m, Clock::time_point) {
    const StatsTables t = compute_stats(m.log, m.options.max_stats);
    const int top = kBodyTop;
    const int h = s.rows() - 1 - top;
    const int w = s.cols();
    if (w >= 70) {  // 2 x 2
        const int cw = (w - 2) / 2;
        const int ch = h / 2;
        draw_table(s, top, 0, cw, ch - 1, "Top hosts", t.hosts);
        draw_table(s, top, cw + 2, cw, ch - 1, "Top processes", t.processes);
        draw_table(s, top + ch, 0, cw, h - ch, "Top ports", t.ports);
        draw_table(s, top + ch, cw + 2, cw, h - ch, "Top users", t.users);
    } else {  // stacked
        const int ch = std::max(2, h / 4);
        draw_table(s, top, 0, w, ch, "Top hosts", t.hosts);
        draw_table(s, top + ch, 0, w, ch, "Top processes", t.processes);
        draw_table(s, top + 2 * ch, 0, w, ch, "Top ports", t.ports);
        draw_table(s, top + 3 * ch, 0, w, h - 3 * ch, "Top users", t.users);
    }
}

}  // namespace tsnitch::tui
