#include "core/json.h"

#include <cstdint>
#include <cstdio>

#include "core/text.h"

namespace tsnitch {

std::string json_quote(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 2);
    out += '"';
    for (size_t i = 0; i < s.size();) {
        const char c = s[i];
        switch (c) {
            case '"':
                out += "\\\"";
                ++i;
                continue;
            case '\\':
                out += "\\\\";
                ++i;
                continue;
            case '\n':
                out += "\\n";
                ++i;
                continue;
            case '\r':
                out += "\\r";
                ++i;
                continue;
            case '\t':
                out += "\\t";
                ++i;
                continue;
            default:
                break;
        }
        const size_t n = decode_utf8(s, i).len;
        if (static_cast<uint8_t>(c) < 0x20 || c == 0x7f) {
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\u%04x",
                          static_cast<unsigned>(static_cast<uint8_t>(c)));
            out += buf;
            ++i;
            continue;
        }
        if (n == 0) {
            // JSON carries characters, not bytes: a byte that is not UTF-8 becomes the text
            // "\xNN", as printable_text shows it (as \u00NN a reader would see a Latin-1 letter).
            char buf[8];
            std::snprintf(buf, sizeof buf, "\\\\x%02x",
                          static_cast<unsigned>(static_cast<uint8_t>(c)));
            out += buf;
            ++i;
            continue;
        }
        out.append(s.substr(i, n));
        i += n;
    }
    out += '"';
    return out;
}

}  // namespace tsnitch
