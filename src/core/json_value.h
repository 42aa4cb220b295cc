// The one JSON reader (RFC 8259), strict and bounded: the control protocol's messages and the
// syntax check of configuration and rule files (json_syntax.h) both use it. The text in,
// a tree of values out, or an error that says where and what. Bounded by design: nesting depth and
// the number of values are limits of the caller, so that a hostile line costs at most a known
// amount of memory and stack. Strings are bytes: a lone escaped surrogate \udc80..\udcff stands for
// the raw byte 0x80..0xff (as write_json_string writes bytes that are not UTF-8), so that process
// paths and arguments that are not text survive a round trip unchanged.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/result.h"

namespace tsnitch {

class JsonValue {
  public:
    enum class Kind : uint8_t { null, boolean, number, string, array, object };
    using Members = std::vector<std::pair<std::string, JsonValue>>;  // in text order

    JsonValue() = default;
    static JsonValue make_bool(bool b);
    static JsonValue make_number(std::string literal);  // a valid JSON number literal
    static JsonValue make_string(std::string s);
    static JsonValue make_array(std::vector<JsonValue> items);
    static JsonValue make_object(Members members);

    Kind kind() const { return kind_; }
    bool is_null() const { return kind_ == Kind::null; }
    bool as_bool() const { return boolean_; }
    // The number's literal text; the reader checked its syntax.
    const std::string& number_text() const { return text_; }
    // The number when it is an integer literal (no fraction, no exponent) that fits.
    std::optional<uint64_t> as_u64() const;
    std::optional<int64_t> as_i64() const;
    const std::string& as_string() const { return text_; }
    const std::vector<JsonValue>& items() const { return items_; }
    const Members& members() const { return members_; }
    // The member called `key` of an object; nullptr when absent (or not an object).
    const JsonValue* find(std::string_view key) const;

  private:
    Kind kind_ = Kind::null;
    bool boolean_ = false;
    std::string text_;  // number literal or string bytes
    std::vector<JsonValue> items_;
    Members members_;
};

std::string_view json_kind_name(JsonValue::Kind k);  // "null", "a boolean", "a number", ...

struct JsonLimits {
    size_t max_depth = 16;        // arrays/objects inside each other
    size_t max_values = 1 << 16;  // values in the whole text
};

// One JSON text (surrounding whitespace allowed). Errors: "at byte 17: expected ':' after the
// member name, found '1'". Duplicate keys in one object are an error (which one would count is
// ambiguous).
Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits = {});

// The first error of parse_json, with the byte offset it was found at; nullopt when none.
struct JsonParseError {
    size_t offset = 0;
    std::string message;  // printable: bytes from the text in it are escaped
};
std::optional<JsonParseError> json_parse_error(std::string_view text, const JsonLimits& limits);

// Appends `s` as a JSON string literal: valid UTF-8 as it is, control characters as \uXXXX, any
// byte that is not part of valid UTF-8 as the lone surrogate \udcXX that parse_json reads back.
void write_json_string(std::string& out, std::string_view s);

}  // namespace tsnitch
