#include "tui/panel.h"

#include <algorithm>

#include "tui/safe_text.h"

namespace tsnitch::tui {

int list_rows(const Screen& s) {
    return std::max(1, s.rows() - kBodyTop - 3);
}

void draw_centered(Screen& s, int y, std::string_view text, attr_t attr) {
    const int w = display_width(text);
    s.put(y, std::max(0, (s.cols() - w) / 2), text, s.cols(), attr);
}

void draw_detail(Screen& s, const std::string& safe) {
    const int y = s.rows() - 2;
    if (y <= kBodyTop + 1) return;
    s.fill(y, 0, s.cols(), s.styles().dim);
    s.put(y, 1, safe, s.cols() - 1, s.styles().title);
}

void draw_dialog(Screen& s, std::string_view title, const std::vector<std::string>& body) {
    int w = display_width(title) + 6;
    for (const auto& l : body)
        w = std::max(w, display_width(l) + 4);
    w = std::min(w, s.cols());
    const int h = std::min(static_cast<int>(body.size()) + 2, s.rows());
    const int y = std::max(0, (s.rows() - h) / 2);
    const int x = std::max(0, (s.cols() - w) / 2);
    s.box(y, x, h, w, s.styles().warn, title);
    for (size_t i = 0; i < body.size() && static_cast<int>(i) + 1 < h - 1; ++i) {
        s.put(y + 1 + static_cast<int>(i), x + 2, body[i], w - 4, s.styles().normal);
    }
}

}  // namespace tsnitch::tui
