#include <doctest/doctest.h>

#include <string>

#include "core/dns/display_name.h"

using tsnitch::escape_for_display;

TEST_CASE("ordinary host names are shown as they are") {
    CHECK(escape_for_display("github.com") == "github.com");
    CHECK(escape_for_display("xn--bcher-kva.example") == "xn--bcher-kva.example");
    CHECK(escape_for_display("_dmarc.example.org") == "_dmarc.example.org");
}

TEST_CASE("terminal control bytes in a name are shown escaped, never raw") {
    // ESC [ 2 J would clear the screen; a newline would fake a second log line.
    CHECK(escape_for_display("evil\x1b[2J.test") == "evil\\x1b[2J.test");
    CHECK(escape_for_display("a\nb\rc\td") == "a\\x0ab\\x0dc\\x09d");
    CHECK(escape_for_display(std::string("nul\0byte", 8)) == "nul\\x00byte");
    CHECK(escape_for_display("del\x7f") == "del\\x7f");
}

TEST_CASE("bytes outside ASCII are shown as bytes, so look-alikes can't pass for a known name") {
    // U+202E RIGHT-TO-LEFT OVERRIDE, and a Cyrillic "а" in "pаypal".
    CHECK(escape_for_display("moc.\xe2\x80\xae") == "moc.\\xe2\\x80\\xae");
    CHECK(escape_for_display("p\xd0\xb0ypal.com") == "p\\xd0\\xb0ypal.com");
}

TEST_CASE("a backslash in a name can't fake an escape") {
    CHECK(escape_for_display("a\\x1b") == "a\\\\x1b");
    CHECK(escape_for_display("a\\x1b") != escape_for_display("a\x1b"));
}
