#include "core/log_line.h"

#include <doctest/doctest.h>

using namespace tsnitch;

TEST_CASE("at a terminal a message reads 'tsnitch: TEXT', whatever its level") {
    CHECK(stderr_log_line(LogStyle::terminal, LogLevel::error, "no queue") ==
          "tsnitch: no queue\n");
    CHECK(stderr_log_line(LogStyle::terminal, LogLevel::debug, "x") == "tsnitch: x\n");
}

TEST_CASE("for the journal each line carries its syslog priority (sd-daemon(3))") {
    CHECK(stderr_log_line(LogStyle::journal, LogLevel::error, "no queue") == "<3>no queue\n");
    CHECK(stderr_log_line(LogStyle::journal, LogLevel::warning, "w") == "<4>w\n");
    CHECK(stderr_log_line(LogStyle::journal, LogLevel::info, "intercepting") ==
          "<6>intercepting\n");
    CHECK(stderr_log_line(LogStyle::journal, LogLevel::debug, "d") == "<7>d\n");
    CHECK(stderr_log_line(LogStyle::journal, LogLevel::error, "a\nb") == "<3>a\n<3>b\n");
    CHECK(stderr_log_line(LogStyle::journal, LogLevel::info, "a\n") == "<6>a\n");
    CHECK(stderr_log_line(LogStyle::journal, LogLevel::info, "") == "<6>\n");
}

TEST_CASE("JOURNAL_STREAM counts only when it names this standard error") {
    CHECK(journal_stream_matches("8:12345", 8, 12345));
    CHECK_FALSE(journal_stream_matches("8:12345", 8, 12346));
    CHECK_FALSE(journal_stream_matches("9:12345", 8, 12345));
    CHECK_FALSE(journal_stream_matches("", 0, 0));
    CHECK_FALSE(journal_stream_matches("8", 8, 0));
    CHECK_FALSE(journal_stream_matches("8:", 8, 0));
    CHECK_FALSE(journal_stream_matches(":1", 0, 1));
    CHECK_FALSE(journal_stream_matches("8:1x", 8, 1));
    CHECK_FALSE(journal_stream_matches("-8:1", 8, 1));
}
