#include "tui/filter_line.h"

#include <cwchar>

#include "tui/keys.h"

namespace tsnitch::tui {

bool FilterLine::handle_key(int k, ListCursor& list) {
    if (editing_) {
        edit(k);
        list = {};
        return true;
    }
    if (k == '/') {
        editing_ = true;
        return true;
    }
    if (k == key::escape) {
        text_.clear();
        return true;
    }
    return false;
}

void FilterLine::edit(int k) {
    switch (k) {
        case key::enter:
            editing_ = false;
            break;
        case key::escape:
            editing_ = false;
            text_.clear();
            break;
        case key::backspace:
            // Remove one UTF-8 character.
            while (!text_.empty() && (text_.back() & 0xc0) == 0x80)
                text_.pop_back();
            if (!text_.empty()) text_.pop_back();
            break;
        default:
            if (k >= 0x20 && k < key::special && k != 0x7f && text_.size() < 200) {
                char buf[8];
                std::mbstate_t ms{};
                const size_t n = std::wcrtomb(buf, static_cast<wchar_t>(k), &ms);
                if (n != static_cast<size_t>(-1)) text_.append(buf, n);
            }
            break;
    }
}

bool FilterLine::draw(Screen& s) const {
    if (!editing_) return false;
    const int y = s.rows() - 1;
    const int w = s.cols();
    int col = s.put(y, 0, "Filter: ", w, s.styles().key);
    col += s.put(y, col, s.safe(text_), w - col - 1, s.styles().normal);
    s.put(y, col, "_", w - col, s.styles().key | A_BLINK);
    s.put(y, col + 2, "Enter keep  Esc clear", w - col - 2, s.styles().dim);
    return true;
}

}  // namespace tsnitch::tui
