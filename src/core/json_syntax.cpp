#include "core/json_syntax.h"
#include "core/text.h"

namespace tsnitch {

namespace {

constexpr int kMaxDepth = 256;

class Checker {
  public:
    explicit Checker(std::string_view t) : t_(t) {}

    std::optional<JsonSyntaxError> run() {
        skip_space();
        if (!value(0)) return error_;
        skip_space();
        if (i_ < t_.size()) fail("text after the end of the JSON value");
        return error_;
    }

  private:
    bool fail(const std::string& what) {
        if (error_) return false;
        JsonSyntaxError e;
        for (size_t k = 0; k < i_ && k < t_.size(); ++k) {
            if (t_[k] == '\n') {
                ++e.line;
                e.column = 1;
            } else {
                ++e.column;
            }
        }
        e.message = what;
        error_ = e;
        return false;
    }

    std::string found() const {
        if (i_ >= t_.size()) return "the end of the text";
        const unsigned char c = static_cast<unsigned char>(t_[i_]);
        if (c < 0x20 || c >= 0x7f) return "a control or non-ASCII byte";
        return std::string("'") + t_[i_] + "'";
    }

    void skip_space() {
        while (i_ < t_.size() &&
               (t_[i_] == ' ' || t_[i_] == '\t' || t_[i_] == '\n' || t_[i_] == '\r'))
            ++i_;
    }

    bool literal(std::string_view word) {
        if (t_.substr(i_, word.size()) != word) return fail("expected a value, found " + found());
        i_ += word.size();
        return true;
    }

    bool value(int depth) {
        if (depth > kMaxDepth) return fail("nested deeper than 256 levels");
        if (i_ >= t_.size()) return fail("expected a value, found the end of the text");
        switch (t_[i_]) {
            case '{':
                return object(depth);
            case '[':
                return array(depth);
            case '"':
                return string();
            case 't':
                return literal("true");
            case 'f':
                return literal("false");
            case 'n':
                return literal("null");
            default:
                if (t_[i_] == '-' || (t_[i_] >= '0' && t_[i_] <= '9')) return number();
                return fail("expected a value, found " + found());
        }
    }

    bool object(int depth) {
        ++i_;  // '{'
        skip_space();
        if (i_ < t_.size() && t_[i_] == '}') {
            ++i_;
            return true;
        }
        for (;;) {
            skip_space();
            if (i_ >= t_.size() || t_[i_] != '"')
                return fail("expected a member name in double quotes, found " + found());
            if (!string()) return false;
            skip_space();
            if (i_ >= t_.size() || t_[i_] != ':')
                return fail("expected ':' after the member name, found " + found());
            ++i_;
            skip_space();
            if (!value(depth + 1)) return false;
            skip_space();
            if (i_ < t_.size() && t_[i_] == ',') {
                ++i_;
                continue;
            }
            if (i_ < t_.size() && t_[i_] == '}') {
                ++i_;
                return true;
            }
            return fail("expected ',' or '}' after an object member, found " + found());
        }
    }

    bool array(int depth) {
        ++i_;  // '['
        skip_space();
        if (i_ < t_.size() && t_[i_] == ']') {
            ++i_;
            return true;
        }
        for (;;) {
            skip_space();
            if (!value(depth + 1)) return false;
            skip_space();
            if (i_ < t_.size() && t_[i_] == ',') {
                ++i_;
                continue;
            }
            if (i_ < t_.size() && t_[i_] == ']') {
                ++i_;
                return true;
            }
            return fail("expected ',' or ']' after an array element, found " + found());
        }
    }

    static bool hex(char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    }

    bool string() {
        ++i_;  // '"'
        while (i_ < t_.size()) {
            const unsigned char c = static_cast<unsigned char>(t_[i_]);
            if (c == '"') {
                ++i_;
                return true;
            }
            if (c < 0x20) return fail("a control character inside a string (write it as \\uXXXX)");
            if (c == '\\') {
                ++i_;
                if (i_ >= t_.size()) break;
                const char e = t_[i_];
                if (e == 'u') {
                    for (int k = 1; k <= 4; ++k) {
                        if (i_ + k >= t_.size() || !hex(t_[i_ + k]))
                            return fail("expected four hex digits after \\u");
                    }
                    i_ += 5;
                    continue;
                }
                if (std::string_view("\"\\/bfnrt").find(e) == std::string_view::npos)
                    return fail(std::string("unknown escape '\\") + e + "' in a string");
            }
            ++i_;
        }
        return fail("a string without its closing '\"'");
    }

    bool digits() {
        const size_t start = i_;
        while (i_ < t_.size() && t_[i_] >= '0' && t_[i_] <= '9')
            ++i_;
        return i_ > start;
    }

    bool number() {
        if (t_[i_] == '-') ++i_;
        if (i_ < t_.size() && t_[i_] == '0') {
            ++i_;
        } else if (!digits()) {
            return fail("expected a digit in a number, found " + found());
        }
        if (i_ < t_.size() && t_[i_] == '.') {
            ++i_;
            if (!digits()) return fail("expected a digit after '.' in a number, found " + found());
        }
        if (i_ < t_.size() && (t_[i_] == 'e' || t_[i_] == 'E')) {
            ++i_;
            if (i_ < t_.size() && (t_[i_] == '+' || t_[i_] == '-')) ++i_;
            if (!digits()) return fail("expected a digit in a number's exponent, found " + found());
        }
        return true;
    }

    std::string_view t_;
    size_t i_ = 0;
    std::optional<JsonSyntaxError> error_;
};

}  // namespace

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
    return Checker(text).run();
}

std::optional<std::string> json_syntax_message(std::string_view text, std::string_view origin) {
    if (!looks_like_json(text)) return std::nullopt;
    auto e = json_syntax_error(text);
    if (!e) return std::nullopt;
    return std::string(origin) + ":" + std::to_string(e->line) + ":" + std::to_string(e->column) +
           ": JSON syntax error: " + printable_text(e->message);
}

}  // namespace tsnitch
