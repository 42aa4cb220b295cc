// The first syntax error of a JSON text, in JSON's words. Configuration and rule files are read
// with yaml-cpp (YAML is a superset of JSON); when it refuses a file that is JSON, its message
// speaks of YAML ("end of map flow not found"): this one says what a JSON reader expected. The
// check is the one JSON reader's (json_value.h), so files and the control protocol agree on JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace tsnitch {

struct JsonSyntaxError {
    size_t line = 1;    // from 1
    size_t column = 1;  // from 1, in bytes
    std::string message;
};

// True when the text, after leading white space, starts as JSON does: '[', or '{' followed by a
// quoted name or '}' (YAML's flow style, `{name: x}`, is not JSON).
bool looks_like_json(std::string_view text);

// The first error, or nullopt when the text is one valid JSON value (RFC 8259). Nesting deeper
// than 256 and a duplicate key in one object are errors too.
std::optional<JsonSyntaxError> json_syntax_error(std::string_view text);

// For a text that looks like JSON and is not: "ORIGIN:LINE:COLUMN: JSON syntax error: MESSAGE".
// nullopt for YAML text, or JSON without an error (then the YAML reader's message stands).
std::optional<std::string> json_syntax_message(std::string_view text, std::string_view origin);

}  // namespace tsnitch
