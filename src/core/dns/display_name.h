// Showing names that came from outside (DNS answers, and any other untrusted text) in a terminal
// or a log line: a name must not move the cursor, change colours or hide its own characters.
#pragma once

#include <string>
#include <string_view>

namespace tsnitch {

// Printable ASCII stays; '\' becomes "\\" so that the escapes can't be faked; every other byte
// (control bytes, DEL, bytes >= 0x80) becomes "\xNN". DNS names are ASCII on the wire
// (international names travel as xn-- punycode), so anything else in one is worth seeing as bytes,
// and a right-to-left override or a look-alike letter can't pass for a known name.
std::string escape_for_display(std::string_view name);

}  // namespace tsnitch
