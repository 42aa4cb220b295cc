#include "tui/safe_text.h"

#include "core/text.h"

#include <doctest/doctest.h>

#include <clocale>
#include <cstdint>
#include <random>

using namespace tsnitch;
using namespace tsnitch::tui;

namespace {

// Widths come from the locale's wcwidth, as on a UTF-8 terminal.
const bool kUtf8Locale = std::setlocale(LC_CTYPE, "C.UTF-8") != nullptr;

bool valid_utf8_without_controls(const std::string& s) {
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<uint8_t>(s[i]);
        if (c < 0x20 || c == 0x7f) return false;
        size_t n = c < 0x80             ? 1
                   : (c & 0xe0) == 0xc0 ? 2
                   : (c & 0xf0) == 0xe0 ? 3
                   : (c & 0xf8) == 0xf0 ? 4
                                        : 0;
        if (n == 0 || i + n > s.size()) return false;
        for (size_t k = 1; k < n; ++k) {
            if ((static_cast<uint8_t>(s[i + k]) & 0xc0) != 0x80) return false;
        }
        i += n;
    }
    return true;
}

}  // namespace

TEST_CASE("an argv with a terminal escape sequence is shown, not obeyed") {
    REQUIRE(kUtf8Locale);
    CHECK(printable_text("evil\x1b[2J\x1b]0;pwned\x07name", true) ==
          "evil\\e[2J\\e]0;pwned\\x07name");
    CHECK(printable_text("line1\nline2\r\tend\x7f", true) == "line1\\nline2\\r\\tend\\x7f");
}

TEST_CASE("bytes that are not UTF-8 are shown as \\xNN") {
    CHECK(printable_text("\xff\xfe", true) == "\\xff\\xfe");
    CHECK(printable_text("caf\xc3", true) == "caf\\xc3");              // cut sequence
    CHECK(printable_text("\xc0\xaf", true) == "\\xc0\\xaf");           // overlong '/'
    CHECK(printable_text("\xed\xa0\x80", true) == "\\xed\\xa0\\x80");  // surrogate
}

TEST_CASE("C1 controls and bidi overrides cannot act on the terminal or reorder text") {
    CHECK(printable_text("a\xc2\x9b"
                         "2Jb",
                         true) == "a\\u009b2Jb");  // CSI as one C1 character
    CHECK(printable_text("gpj.\xe2\x80\xae"
                         "exe",
                         true) == "gpj.\\u202eexe");
    CHECK(printable_text("a\xe2\x80\x8b"
                         "b",
                         true) == "a\\u200bb");  // zero-width space
}

TEST_CASE("printable UTF-8 passes unchanged on a UTF-8 terminal") {
    REQUIRE(kUtf8Locale);
    const std::string s = "caf\xc3\xa9 \xe2\x98\x83 \xe6\x97\xa5\xe6\x9c\xac /usr/bin/x";
    CHECK(printable_text(s, true) == s);
}

TEST_CASE("a non-UTF-8 terminal gets plain ASCII") {
    const std::string out = printable_text("caf\xc3\xa9 \xf0\x9f\x98\x80", false);
    CHECK(out == "caf\\u00e9 \\U0001f600");
    for (char c : out)
        CHECK(static_cast<uint8_t>(c) < 0x80);
}

TEST_CASE("whatever the bytes, the output is valid UTF-8 without control characters") {
    REQUIRE(kUtf8Locale);
    std::mt19937 rng(42);
    for (int round = 0; round < 2000; ++round) {
        std::string raw(static_cast<size_t>(rng() % 24), '\0');
        for (char& c : raw)
            c = static_cast<char>(rng() & 0xff);
        const std::string out = printable_text(raw, round % 2 == 0);
        INFO("round " << round);
        CHECK(valid_utf8_without_controls(out));
    }
}

TEST_CASE("display width counts columns, not bytes") {
    REQUIRE(kUtf8Locale);
    CHECK(display_width("curl") == 4);
    CHECK(display_width("caf\xc3\xa9") == 4);
    CHECK(display_width("\xe6\x97\xa5\xe6\x9c\xac") == 4);  // two wide characters
    CHECK(display_width("e\xcc\x81") == 1);                 // e + combining acute
}

TEST_CASE("truncation keeps whole characters and marks the cut") {
    REQUIRE(kUtf8Locale);
    CHECK(truncate_to_width("/usr/bin/curl", 20, "~") == "/usr/bin/curl");
    CHECK(truncate_to_width("/usr/bin/curl", 8, "~") == "/usr/bi~");
    // Wide characters: 2 columns each; never half a character, never over the width.
    const std::string cjk = "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e\xe3\x83\x86";  // 4 wide chars
    CHECK(truncate_to_width(cjk, 5, "\xe2\x80\xa6") == "\xe6\x97\xa5\xe6\x9c\xac\xe2\x80\xa6");
    for (int w = 0; w <= 9; ++w) {
        const std::string t = truncate_to_width(cjk, w, "\xe2\x80\xa6");
        CHECK(display_width(t) <= w);
        CHECK(valid_utf8_without_controls(t));
    }
    CHECK(truncate_left("/usr/lib/firefox/firefox", 12, "\xe2\x80\xa6") ==
          "\xe2\x80\xa6"
          "fox/firefox");
}

TEST_CASE("padding and wrapping give exact columns") {
    REQUIRE(kUtf8Locale);
    CHECK(pad_to_width("ab", 5, "~") == "ab   ");
    CHECK(display_width(pad_to_width("\xe6\x97\xa5", 5, "~")) == 5);
    const auto lines = wrap_to_width("curl -sS https://example.com/a/very/long/path", 16, 2, "~");
    REQUIRE(lines.size() == 2);
    CHECK(lines[0] == "curl -sS https:/");
    CHECK(lines[1] == "/example.com/a/~");
    CHECK(wrap_to_width("short", 16, 3, "~") == std::vector<std::string>{"short"});
}
