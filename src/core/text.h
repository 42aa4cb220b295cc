// Small text facts shared by every layer that handles outside strings: UTF-8 decoding (strict:
// no overlong forms, surrogates or values past U+10FFFF) and ASCII lower case.
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

}  // namespace tsnitch
