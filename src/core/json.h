// Writing JSON text. Every string that came from outside (process names, argv, DNS names) goes
// through json_quote, so a hostile value cannot break the line or the object.
#pragma once

#include <string>
#include <string_view>

namespace tsnitch {

// A JSON string literal with quotes; control characters and invalid UTF-8 bytes escaped as \uXXXX
// (an invalid byte b becomes \u00XX so that nothing is lost and the output stays valid JSON).
std::string json_quote(std::string_view s);

}  // namespace tsnitch
