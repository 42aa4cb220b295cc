#include "tui/safe_text.h"

#include <cstdint>
#include <cwchar>

#include "core/text.h"

namespace tsnitch::tui {

namespace {

int char_width(uint32_t cp) {
    const int w = ::wcwidth(static_cast<wchar_t>(cp));
    return w < 0 ? 1 : w;
}

// Byte length of the safe-text character starting at s[i] (safe text is valid UTF-8, but be
// forgiving: a stray byte counts as one).
size_t char_len(std::string_view s, size_t i) {
    const size_t n = decode_utf8(s, i).len;
    return n == 0 ? 1 : n;
}

int width_at(std::string_view s, size_t i) {
    const Utf8Char d = decode_utf8(s, i);
    return d.len == 0 ? 1 : char_width(d.cp);
}

}  // namespace

int display_width(std::string_view safe) {
    int w = 0;
    for (size_t i = 0; i < safe.size(); i += char_len(safe, i))
        w += width_at(safe, i);
    return w;
}

std::string truncate_to_width(std::string_view safe, int width, std::string_view ellipsis) {
    if (width <= 0) return {};
    if (display_width(safe) <= width) return std::string(safe);
    const int room = width - display_width(ellipsis);
    std::string out;
    int w = 0;
    for (size_t i = 0; i < safe.size();) {
        const size_t n = char_len(safe, i);
        const int cw = width_at(safe, i);
        if (w + cw > room) break;
        out.append(safe.substr(i, n));
        w += cw;
        i += n;
    }
    if (room >= 0) out += ellipsis;
    return out;
}

std::string truncate_left(std::string_view safe, int width, std::string_view ellipsis) {
    if (width <= 0) return {};
    if (display_width(safe) <= width) return std::string(safe);
    const int room = width - display_width(ellipsis);
    if (room < 0) return {};
    // Walk the characters once, then keep the longest tail that fits.
    std::vector<size_t> starts;
    for (size_t i = 0; i < safe.size(); i += char_len(safe, i))
        starts.push_back(i);
    int w = 0;
    size_t from = safe.size();
    for (auto it = starts.rbegin(); it != starts.rend(); ++it) {
        const int cw = width_at(safe, *it);
        if (w + cw > room) break;
        w += cw;
        from = *it;
    }
    return std::string(ellipsis) + std::string(safe.substr(from));
}

std::string pad_to_width(std::string_view safe, int width, std::string_view ellipsis) {
    std::string out = truncate_to_width(safe, width, ellipsis);
    const int w = display_width(out);
    if (w < width) out.append(static_cast<size_t>(width - w), ' ');
    return out;
}

std::vector<std::string> wrap_to_width(std::string_view safe, int width, int max_lines,
                                       std::string_view ellipsis) {
    std::vector<std::string> lines;
    if (width <= 0 || max_lines <= 0) return lines;
    size_t i = 0;
    while (i < safe.size() && static_cast<int>(lines.size()) < max_lines) {
        const std::string_view rest = safe.substr(i);
        if (static_cast<int>(lines.size()) == max_lines - 1) {
            lines.push_back(truncate_to_width(rest, width, ellipsis));
            return lines;
        }
        std::string line;
        int w = 0;
        while (i < safe.size()) {
            const size_t n = char_len(safe, i);
            const int cw = width_at(safe, i);
            if (w + cw > width) break;
            line.append(safe.substr(i, n));
            w += cw;
            i += n;
        }
        if (line.empty()) {  // a character wider than the line: skip it rather than loop
            i += char_len(safe, i);
            line = "?";
        }
        lines.push_back(std::move(line));
    }
    if (lines.empty()) lines.emplace_back();
    return lines;
}

}  // namespace tsnitch::tui
