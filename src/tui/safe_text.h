// The display width of safe text (core/text.h printable_text: no control character, escape
// sequence, invalid UTF-8 or bidi override), for columns that line up: the curses side of showing
// text from outside.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace tsnitch::tui {

// Columns that safe (valid, printable) UTF-8 text takes on the terminal: 2 for wide CJK
// characters, 0 for combining marks (wcwidth of the current locale).
int display_width(std::string_view safe);

// At most `width` columns of `safe`; when cut, the last column is `ellipsis` ("…" or "~").
std::string truncate_to_width(std::string_view safe, int width, std::string_view ellipsis);
// The same, keeping the end: "…/bin/curl" (for paths, whose end says the most).
std::string truncate_left(std::string_view safe, int width, std::string_view ellipsis);
// `safe` padded with spaces (or cut) to exactly `width` columns.
std::string pad_to_width(std::string_view safe, int width, std::string_view ellipsis);
// `safe` broken into lines of at most `width` columns (at characters, not words: command lines
// are not prose); at most max_lines, the last one ending in `ellipsis` when text was left over.
std::vector<std::string> wrap_to_width(std::string_view safe, int width, int max_lines,
                                       std::string_view ellipsis);

}  // namespace tsnitch::tui
