// Whatever bytes a process puts in its argv or a DNS answer in a name, what the TUI draws is
// valid UTF-8 without control characters, and truncation keeps to its width.
#include <clocale>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/text.h"
#include "tui/safe_text.h"

namespace {

void require(bool ok) {
    if (!ok) std::abort();
}

bool clean(const std::string& s) {
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<uint8_t>(s[i]);
        if (c < 0x20 || c == 0x7f) return false;
        const size_t n = c < 0x80 ? 1 : (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : 4;
        if (i + n > s.size()) return false;
        i += n;
    }
    return true;
}

}  // namespace

// Widths as on a UTF-8 terminal.
extern "C" int LLVMFuzzerInitialize(int*, char***) {
    std::setlocale(LC_CTYPE, "C.UTF-8");
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    const std::string_view raw(reinterpret_cast<const char*>(data), size);
    for (bool utf8 : {true, false}) {
        const std::string safe = tsnitch::printable_text(raw, utf8);
        require(clean(safe));
        if (!utf8) {
            for (char c : safe)
                require(static_cast<uint8_t>(c) < 0x80);
        }
        const int w = static_cast<int>(size % 40);
        require(tsnitch::tui::display_width(tsnitch::tui::truncate_to_width(safe, w, "~")) <= w);
        require(tsnitch::tui::display_width(tsnitch::tui::truncate_left(safe, w, "~")) <= w);
    }
    return 0;
}
