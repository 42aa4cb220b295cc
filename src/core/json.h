// Writing JSON text. Every string that came from outside (process names, argv, DNS names) goes
// through json_quote, so a hostile value cannot break the line or the object.
#pragma once

#include <string>
#include <string_view>

namespace tsnitch {

// A JSON string literal with quotes; control characters escaped as \uXXXX, and a byte that is not
// valid UTF-8 written as the text \xNN (as printable_text shows it; \u00NN would be read as a
// Latin-1 letter), so the output stays valid JSON.
std::string json_quote(std::string_view s);
// The same, appended to `out`.
void append_json_string(std::string& out, std::string_view s);

}  // namespace tsnitch
