#include "core/json_value.h"

#include <charconv>

#include "core/text.h"

namespace tsnitch {

JsonValue JsonValue::make_bool(bool b) {
    JsonValue v;
    v.kind_ = Kind::boolean;
    v.boolean_ = b;
    return v;
}

JsonValue JsonValue::make_number(std::string literal) {
    JsonValue v;
    v.kind_ = Kind::number;
    v.text_ = std::move(literal);
    return v;
}

JsonValue JsonValue::make_string(std::string s) {
    JsonValue v;
    v.kind_ = Kind::string;
    v.text_ = std::move(s);
    return v;
}

JsonValue JsonValue::make_array(std::vector<JsonValue> items) {
    JsonValue v;
    v.kind_ = Kind::array;
    v.items_ = std::move(items);
    return v;
}

JsonValue JsonValue::make_object(Members members) {
    JsonValue v;
    v.kind_ = Kind::object;
    v.members_ = std::move(members);
    return v;
}

namespace {

template <class T>
std::optional<T> integer_of(const std::string& text) {
    if (text.find_first_of(".eE") != std::string::npos) return std::nullopt;
    T n{};
    const char* end = text.data() + text.size();
    auto [p, ec] = std::from_chars(text.data(), end, n);
    if (ec != std::errc() || p != end) return std::nullopt;
    return n;
}

}  // namespace

std::optional<uint64_t> JsonValue::as_u64() const {
    if (kind_ != Kind::number || text_.empty() || text_[0] == '-') return std::nullopt;
    return integer_of<uint64_t>(text_);
}

std::optional<int64_t> JsonValue::as_i64() const {
    if (kind_ != Kind::number) return std::nullopt;
    if (text_ == "-0") return 0;
    return integer_of<int64_t>(text_);
}

const JsonValue* JsonValue::find(std::string_view key) const {
    for (const auto& [k, v] : members_)
        if (k == key) return &v;
    return nullptr;
}

std::string_view json_kind_name(JsonValue::Kind k) {
    switch (k) {
        case JsonValue::Kind::null:
            return "null";
        case JsonValue::Kind::boolean:
            return "a boolean";
        case JsonValue::Kind::number:
            return "a number";
        case JsonValue::Kind::string:
            return "a string";
        case JsonValue::Kind::array:
            return "an array";
        case JsonValue::Kind::object:
            return "an object";
    }
    return "?";
}

namespace {

void append_utf8(std::string& out, uint32_t cp) {
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xc0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xe0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    } else {
        out += static_cast<char>(0xf0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f));
        out += static_cast<char>(0x80 | (cp & 0x3f));
    }
}

class Reader {
  public:
    Reader(std::string_view text, const JsonLimits& limits) : s_(text), limits_(limits) {}

    // The value, or nullopt with error() set.
    std::optional<JsonValue> document() {
        JsonValue v;
        skip_space();
        if (!value(v, 0)) return std::nullopt;
        skip_space();
        if (pos_ != s_.size()) {
            fail("text after the end of the JSON value");
            return std::nullopt;
        }
        return v;
    }
    const JsonParseError& error() const { return error_; }

  private:
    bool fail(std::string what) {
        if (error_.message.empty()) error_ = {pos_, std::move(what)};
        return false;
    }
    std::string found() const {
        if (pos_ >= s_.size()) return "the end of the text";
        const auto c = static_cast<unsigned char>(s_[pos_]);
        if (c < 0x20 || c >= 0x7f) return "a control or non-ASCII byte";
        return std::string("'") + s_[pos_] + "'";
    }
    void skip_space() {
        while (pos_ < s_.size() &&
               (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
            ++pos_;
    }
    bool literal(std::string_view word) {
        if (s_.substr(pos_, word.size()) != word) return fail("expected a value, found " + found());
        pos_ += word.size();
        return true;
    }

    bool value(JsonValue& out, size_t depth) {
        if (++values_ > limits_.max_values)
            return fail("more than " + std::to_string(limits_.max_values) + " values");
        if (pos_ >= s_.size()) return fail("expected a value, found the end of the text");
        switch (s_[pos_]) {
            case '{':
                return object(out, depth + 1);
            case '[':
                return array(out, depth + 1);
            case '"': {
                std::string str;
                if (!string(str)) return false;
                out = JsonValue::make_string(std::move(str));
                return true;
            }
            case 't':
                if (!literal("true")) return false;
                out = JsonValue::make_bool(true);
                return true;
            case 'f':
                if (!literal("false")) return false;
                out = JsonValue::make_bool(false);
                return true;
            case 'n':
                if (!literal("null")) return false;
                out = JsonValue();
                return true;
            default:
                if (s_[pos_] == '-' || digit(s_[pos_])) return number(out);
                return fail("expected a value, found " + found());
        }
    }

    bool too_deep(size_t depth) {
        if (depth <= limits_.max_depth) return false;
        return !fail("nested deeper than " + std::to_string(limits_.max_depth) + " levels");
    }

    bool object(JsonValue& out, size_t depth) {
        if (too_deep(depth)) return false;
        ++pos_;  // '{'
        JsonValue::Members members;
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == '}') {
            ++pos_;
            out = JsonValue::make_object(std::move(members));
            return true;
        }
        for (;;) {
            skip_space();
            if (pos_ >= s_.size() || s_[pos_] != '"')
                return fail("expected a member name in double quotes, found " + found());
            const size_t key_at = pos_;
            std::string key;
            if (!string(key)) return false;
            for (const auto& m : members) {
                if (m.first != key) continue;
                pos_ = key_at;
                return fail("duplicate key '" + printable_text(key) + "'");
            }
            skip_space();
            if (pos_ >= s_.size() || s_[pos_] != ':')
                return fail("expected ':' after the member name, found " + found());
            ++pos_;
            skip_space();
            JsonValue v;
            if (!value(v, depth)) return false;
            members.emplace_back(std::move(key), std::move(v));
            skip_space();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == '}') {
                ++pos_;
                out = JsonValue::make_object(std::move(members));
                return true;
            }
            return fail("expected ',' or '}' after an object member, found " + found());
        }
    }

    bool array(JsonValue& out, size_t depth) {
        if (too_deep(depth)) return false;
        ++pos_;  // '['
        std::vector<JsonValue> items;
        skip_space();
        if (pos_ < s_.size() && s_[pos_] == ']') {
            ++pos_;
            out = JsonValue::make_array(std::move(items));
            return true;
        }
        for (;;) {
            skip_space();
            JsonValue v;
            if (!value(v, depth)) return false;
            items.push_back(std::move(v));
            skip_space();
            if (pos_ < s_.size() && s_[pos_] == ',') {
                ++pos_;
                continue;
            }
            if (pos_ < s_.size() && s_[pos_] == ']') {
                ++pos_;
                out = JsonValue::make_array(std::move(items));
                return true;
            }
            return fail("expected ',' or ']' after an array element, found " + found());
        }
    }

    // Four hex digits at pos_ (pos_ is left after them); an error is told at `escape_at`.
    bool hex4(uint32_t& out, size_t escape_at) {
        uint32_t v = 0;
        for (int i = 0; i < 4; ++i) {
            const char c = pos_ + static_cast<size_t>(i) < s_.size() ? s_[pos_ + i] : '\0';
            v <<= 4;
            if (c >= '0' && c <= '9')
                v |= static_cast<uint32_t>(c - '0');
            else if (c >= 'a' && c <= 'f')
                v |= static_cast<uint32_t>(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                v |= static_cast<uint32_t>(c - 'A' + 10);
            else
                return (pos_ = escape_at, fail("expected four hex digits after \\u"));
        }
        pos_ += 4;
        out = v;
        return true;
    }

    bool string(std::string& out) {
        ++pos_;  // the opening quote
        for (;;) {
            if (pos_ >= s_.size()) return fail("a string without its closing '\"'");
            const auto c = static_cast<unsigned char>(s_[pos_]);
            if (c == '"') {
                ++pos_;
                return true;
            }
            if (c < 0x20) return fail("a control character inside a string (write it as \\uXXXX)");
            if (c != '\\') {
                out += static_cast<char>(c);
                ++pos_;
                continue;
            }
            if (++pos_ >= s_.size()) return fail("a string without its closing '\"'");
            const char e = s_[pos_++];
            switch (e) {
                case '"':
                case '\\':
                case '/':
                    out += e;
                    break;
                case 'b':
                    out += '\b';
                    break;
                case 'f':
                    out += '\f';
                    break;
                case 'n':
                    out += '\n';
                    break;
                case 'r':
                    out += '\r';
                    break;
                case 't':
                    out += '\t';
                    break;
                case 'u': {
                    const size_t at = pos_ - 1;  // errors point at the 'u'
                    uint32_t cp = 0;
                    if (!hex4(cp, at)) return false;
                    if (cp >= 0xd800 && cp <= 0xdbff) {
                        uint32_t low = 0;
                        if (s_.substr(pos_, 2) != "\\u") {
                            pos_ = at;
                            return fail("a \\u high surrogate without its low surrogate");
                        }
                        pos_ += 2;
                        if (!hex4(low, pos_ - 1)) return false;
                        if (low < 0xdc00 || low > 0xdfff) {
                            pos_ = at;
                            return fail("a \\u high surrogate without its low surrogate");
                        }
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
                    } else if (cp >= 0xdc80 && cp <= 0xdcff) {
                        out += static_cast<char>(cp - 0xdc00);  // a raw byte (see the header)
                        break;
                    } else if (cp >= 0xdc00 && cp <= 0xdfff) {
                        pos_ = at;
                        return fail("a \\u low surrogate without its high surrogate");
                    }
                    append_utf8(out, cp);
                    break;
                }
                default:
                    --pos_;
                    return fail(std::string("unknown escape '\\") + printable_text({&e, 1}) +
                                "' in a string");
            }
        }
    }

    static bool digit(char c) { return c >= '0' && c <= '9'; }
    bool digits() {
        const size_t start = pos_;
        while (pos_ < s_.size() && digit(s_[pos_]))
            ++pos_;
        return pos_ > start;
    }

    bool number(JsonValue& out) {
        const size_t start = pos_;
        if (s_[pos_] == '-') ++pos_;
        if (pos_ < s_.size() && s_[pos_] == '0') {
            ++pos_;
        } else if (!digits()) {
            return fail("expected a digit in a number, found " + found());
        }
        if (pos_ < s_.size() && s_[pos_] == '.') {
            ++pos_;
            if (!digits()) return fail("expected a digit after '.' in a number, found " + found());
        }
        if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
            ++pos_;
            if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
            if (!digits()) return fail("expected a digit in a number's exponent, found " + found());
        }
        out = JsonValue::make_number(std::string(s_.substr(start, pos_ - start)));
        return true;
    }

    std::string_view s_;
    JsonLimits limits_;
    size_t pos_ = 0;
    size_t values_ = 0;
    JsonParseError error_;
};

// Length of the valid UTF-8 sequence at s[i] (no overlongs, no surrogates, at most U+10FFFF),
// or 0 when the bytes there are not one.
size_t utf8_sequence(std::string_view s, size_t i) {
    const auto b0 = static_cast<unsigned char>(s[i]);
    size_t n = 0;
    uint32_t cp = 0;
    if (b0 >= 0xc2 && b0 <= 0xdf) {
        n = 2;
        cp = b0 & 0x1f;
    } else if (b0 >= 0xe0 && b0 <= 0xef) {
        n = 3;
        cp = b0 & 0x0f;
    } else if (b0 >= 0xf0 && b0 <= 0xf4) {
        n = 4;
        cp = b0 & 0x07;
    } else {
        return 0;
    }
    if (s.size() - i < n) return 0;
    for (size_t k = 1; k < n; ++k) {
        const auto b = static_cast<unsigned char>(s[i + k]);
        if ((b & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (b & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return n;
}

}  // namespace

Result<JsonValue> parse_json(std::string_view text, const JsonLimits& limits) {
    Reader r(text, limits);
    if (auto v = r.document()) return std::move(*v);
    return make_error("at byte " + std::to_string(r.error().offset) + ": " + r.error().message);
}

std::optional<JsonParseError> json_parse_error(std::string_view text, const JsonLimits& limits) {
    Reader r(text, limits);
    if (r.document()) return std::nullopt;
    return r.error();
}

void write_json_string(std::string& out, std::string_view s) {
    static constexpr char kHex[] = "0123456789abcdef";
    out += '"';
    for (size_t i = 0; i < s.size();) {
        const auto c = static_cast<unsigned char>(s[i]);
        if (c == '"' || c == '\\') {
            out += '\\';
            out += static_cast<char>(c);
            ++i;
        } else if (c == '\n') {
            out += "\\n";
            ++i;
        } else if (c == '\t') {
            out += "\\t";
            ++i;
        } else if (c < 0x20 || c == 0x7f) {
            out += "\\u00";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
            ++i;
        } else if (c < 0x80) {
            out += static_cast<char>(c);
            ++i;
        } else if (const size_t n = utf8_sequence(s, i); n != 0) {
            out.append(s.substr(i, n));
            i += n;
        } else {
            out += "\\udc";
            out += kHex[c >> 4];
            out += kHex[c & 0xf];
            ++i;
        }
    }
    out += '"';
}

}  // namespace tsnitch
