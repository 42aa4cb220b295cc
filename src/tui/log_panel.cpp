#include "tui/log_panel.h"

#include <algorithm>
#include <ctime>

#include "tui/keys.h"

namespace tsnitch::tui {

Outcome LogPanel::handle_key(int k, KeyContext& ctx) {
    switch (k) {
        case key::up:
        case 'k':
            ++back_;
            return Outcome::handled;
        case key::down:
        case 'j':
            back_ -= std::min<size_t>(back_, 1);
            return Outcome::handled;
        case key::page_up:
            back_ += ctx.page;
            return Outcome::handled;
        case key::page_down:
            back_ -= std::min(back_, ctx.page);
            return Outcome::handled;
        case key::end:
            back_ = 0;
            return Outcome::handled;
        case key::home:
            back_ = kMaxLogLines;
            return Outcome::handled;
        default:
            return Outcome::ignored;
    }
}

void LogPanel::draw(Screen& s, const UiModel& m, Clock::time_point) {
    const auto& lines = m.log_lines;
    const int h = s.rows() - 1 - kBodyTop;
    if (lines.empty()) {
        draw_centered(s, kBodyTop + 1, "No messages.", s.styles().dim);
        return;
    }
    back_ = std::min(back_, lines.size() - 1);
    const size_t end = lines.size() - back_;  // one past the last line shown
    const size_t begin = end > static_cast<size_t>(h) ? end - static_cast<size_t>(h) : 0;
    int y = kBodyTop;
    for (size_t i = begin; i < end; ++i, ++y) {
        const LogLine& l = lines[i];
        const std::time_t t = std::chrono::system_clock::to_time_t(l.time);
        std::tm tm{};
        localtime_r(&t, &tm);
        char stamp[16];
        std::strftime(stamp, sizeof stamp, "%H:%M:%S", &tm);
        const attr_t a = l.level >= LogLevel::error     ? s.styles().deny
                         : l.level == LogLevel::warning ? s.styles().warn
                         : l.level == LogLevel::debug   ? s.styles().dim
                                                        : s.styles().normal;
        s.put(y, 0, stamp, 8, s.styles().dim);
        s.put(y, 9, std::string(log_level_name(l.level)), 7, a);
        s.put(y, 17, s.safe(l.text), s.cols() - 17, a);
    }
}

}  // namespace tsnitch::tui
