// Small text facts shared by every layer that handles outside strings: UTF-8 decoding (strict:
// no overlong forms, surrogates or values past U+10FFFF), ASCII lower case, and the one escaping
// of text from outside (argv, comm, paths, DNS names, rule names, config values) before it is
// printed on a terminal, in a log line or in an error message.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace tsnitch {

struct Utf8Char {
    uint32_t cp = 0;
    size_t len = 0;  // 0: not valid UTF-8 at this byte
};

// The character starting at s[i] (i < s.size()).
Utf8Char decode_utf8(std::string_view s, size_t i);

std::string ascii_lower(std::string_view s);

// The text with everything that is not plainly printable escaped: "\e" for ESC, "\n", "\r",
// "\t", "\xNN" for other control bytes (NUL included) and for bytes that are not valid UTF-8,
// "\uXXXX" for C1 controls, bidi/zero-width format characters and noncharacters. With utf8 false
// (a terminal that is not UTF-8) every non-ASCII character is escaped too, so the output is plain
// ASCII. The result never holds a control character and is always valid UTF-8. A backslash stays
// as it is: the escapes are for reading, not for parsing back.
std::string printable_text(std::string_view raw, bool utf8 = true);

// strerror of an errno value, given as e or as -e (libbpf returns -errno).
std::string errno_text(int e);

}  // namespace tsnitch
