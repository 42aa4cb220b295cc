#include "core/text.h"

#include <cstring>

#include <cstdio>

namespace tsnitch {

namespace {

// Characters that are printable in Unicode's sense but can reorder or hide what is shown next to
// them (bidi overrides and isolates, zero-width characters, line separators).
bool is_format_character(uint32_t cp) {
    return (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x2028 && cp <= 0x202e) ||
           (cp >= 0x2060 && cp <= 0x206f) || cp == 0x061c || cp == 0xfeff || cp == 0x00ad;
}

bool is_noncharacter(uint32_t cp) {
    return (cp >= 0xfdd0 && cp <= 0xfdef) || (cp & 0xfffe) == 0xfffe;
}

void append_hex(std::string& out, const char* fmt, unsigned v) {
    char buf[16];
    std::snprintf(buf, sizeof buf, fmt, v);
    out += buf;
}

}  // namespace

Utf8Char decode_utf8(std::string_view s, size_t i) {
    const auto c = static_cast<uint8_t>(s[i]);
    if (c < 0x80) return {c, 1};
    size_t n;
    uint32_t cp;
    if ((c & 0xe0) == 0xc0) {
        n = 2;
        cp = c & 0x1f;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3;
        cp = c & 0x0f;
    } else if ((c & 0xf8) == 0xf0) {
        n = 4;
        cp = c & 0x07;
    } else {
        return {};
    }
    if (i + n > s.size()) return {};
    for (size_t k = 1; k < n; ++k) {
        const auto cc = static_cast<uint8_t>(s[i + k]);
        if ((cc & 0xc0) != 0x80) return {};
        cp = (cp << 6) | (cc & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000)) return {};
    if (cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return {};
    return {cp, n};
}

std::string printable_text(std::string_view raw, bool utf8) {
    std::string out;
    out.reserve(raw.size());
    for (size_t i = 0; i < raw.size();) {
        const auto c = static_cast<uint8_t>(raw[i]);
        if (c < 0x20 || c == 0x7f) {
            switch (c) {
                case 0x1b:
                    out += "\\e";
                    break;
                case '\n':
                    out += "\\n";
                    break;
                case '\r':
                    out += "\\r";
                    break;
                case '\t':
                    out += "\\t";
                    break;
                default:
                    append_hex(out, "\\x%02x", c);
            }
            ++i;
            continue;
        }
        if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
            continue;
        }
        const Utf8Char d = decode_utf8(raw, i);
        if (d.len == 0) {
            append_hex(out, "\\x%02x", c);
            ++i;
            continue;
        }
        const bool printable = d.cp >= 0xa0 && !is_format_character(d.cp) && !is_noncharacter(d.cp);
        if (utf8 && printable) {
            out.append(raw.substr(i, d.len));
        } else {
            append_hex(out, d.cp > 0xffff ? "\\U%08x" : "\\u%04x", d.cp);
        }
        i += d.len;
    }
    return out;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (char& ch : out)
        if (ch >= 'A' && ch <= 'Z') ch = static_cast<char>(ch - 'A' + 'a');
    return out;
}

std::string errno_text(int e) {
    return std::strerror(e < 0 ? -e : e);
}

}  // namespace tsnitch
