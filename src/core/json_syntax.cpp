#include "core/json_syntax.h"

#include <cstdint>

#include "core/json_value.h"
#include "core/text.h"

namespace tsnitch {

bool looks_like_json(std::string_view text) {
    // '{' then a quoted name (or '}'): YAML's flow style ({name: x}) starts with '{' too.
    auto next = [&text](size_t from) {
        while (from < text.size() && (text[from] == ' ' || text[from] == '\t' ||
                                      text[from] == '\n' || text[from] == '\r'))
            ++from;
        return from;
    };
    const size_t first = next(0);
    if (first >= text.size()) return false;
    if (text[first] == '[') return true;
    if (text[first] != '{') return false;
    const size_t second = next(first + 1);
    return second < text.size() && (text[second] == '"' || text[second] == '}');
}

std::optional<JsonSyntaxError> json_syntax_error(std::string_view text) {
    // The reader of the control protocol, with the bounds of a file: any number of values (the
    // file's size bounds them), 256 levels.
    auto e = json_parse_error(text, JsonLimits{256, SIZE_MAX});
    if (!e) return std::nullopt;
    JsonSyntaxError out;
    for (size_t k = 0; k < e->offset && k < text.size(); ++k) {
        if (text[k] == '\n') {
            ++out.line;
            out.column = 1;
        } else {
            ++out.column;
        }
    }
    out.message = std::move(e->message);
    return out;
}

std::optional<std::string> json_syntax_message(std::string_view text, std::string_view origin) {
    if (!looks_like_json(text)) return std::nullopt;
    auto e = json_syntax_error(text);
    if (!e) return std::nullopt;
    return std::string(origin) + ":" + std::to_string(e->line) + ":" + std::to_string(e->column) +
           ": JSON syntax error: " + printable_text(e->message);
}

}  // namespace tsnitch
