#include "core/json.h"

#include <array>
#include <cstdint>
#include <cstdio>

#include "core/text.h"

namespace tsnitch {

namespace {

// Printable ASCII other than '"' and '\\': written as it is. A table, so that the scan over the
// plain run of each string (every field of every event line) is one load per byte.
constexpr std::array<bool, 256> kPlain = [] {
    std::array<bool, 256> t{};
    for (unsigned u = 0x20; u < 0x7f; ++u)
        t[u] = u != '"' && u != '\\';
    return t;
}();

bool plain(char c) {
    return kPlain[static_cast<unsigned char>(c)];
}

}  // namespace

std::string json_quote(std::string_view s) {
    std::string out;
    append_json_string(out, s);
    return out;
}

void append_json_string(std::string& out, std::string_view s) {
    out.reserve(out.size() + s.size() + 2);
    out += '"';
    // Most strings (addresses, paths, names) need no escape: one append for the plain run.
    size_t start = 0;
    while (start < s.size() && plain(s[start]))
        ++start;
    out.append(s.substr(0, start));
    for (size_t i = start; i < s.size();) {
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
}

}  // namespace tsnitch
