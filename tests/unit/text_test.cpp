// The one escaping of outside text before it is printed (core/text.h printable_text).
#include <doctest/doctest.h>

#include <string>

#include "core/text.h"

using tsnitch::printable_text;

TEST_CASE("ordinary names and paths are shown as they are") {
    CHECK(printable_text("github.com", false) == "github.com");
    CHECK(printable_text("xn--bcher-kva.example", false) == "xn--bcher-kva.example");
    CHECK(printable_text("/usr/bin/curl") == "/usr/bin/curl");
    CHECK(printable_text("caf\xc3\xa9") == "caf\xc3\xa9");  // valid UTF-8 stays, not Latin-1
}

TEST_CASE("terminal control bytes are shown escaped, never raw; a NUL does not cut the text") {
    // ESC [ 2 J would clear the screen; a newline would fake a second log line.
    CHECK(printable_text("evil\x1b[2J.test", false) == "evil\\e[2J.test");
    CHECK(printable_text("a\nb\rc\td") == "a\\nb\\rc\\td");
    CHECK(printable_text(std::string("nul\0byte", 8)) == "nul\\x00byte");
    CHECK(printable_text("del\x7f") == "del\\x7f");
}

TEST_CASE("invalid UTF-8 is shown as \\xNN, never as Latin-1") {
    CHECK(printable_text("/tmp/\xff") == "/tmp/\\xff");
    CHECK(printable_text("/tmp/\xff", false) == "/tmp/\\xff");
    CHECK(printable_text("\xc3(") == "\\xc3(");
}

TEST_CASE("outside ASCII, a name shown ASCII-only shows look-alikes and overrides as code points") {
    // U+202E RIGHT-TO-LEFT OVERRIDE, and a Cyrillic "а" in "pаypal".
    CHECK(printable_text("moc.\xe2\x80\xae", false) == "moc.\\u202e");
    CHECK(printable_text("p\xd0\xb0ypal.com", false) == "p\\u0430ypal.com");
    CHECK(printable_text("moc.\xe2\x80\xae", true) == "moc.\\u202e");  // bidi: never raw
}

TEST_CASE("a backslash is shown once, not doubled") {
    // DNS names already carry "\\" for a backslash in a label (dns_message.h): doubling it again
    // when printing showed four.
    CHECK(printable_text("a\\b") == "a\\b");
    CHECK(printable_text("a\\\\.b", false) == "a\\\\.b");
}
