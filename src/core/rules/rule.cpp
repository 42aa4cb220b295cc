#include "core/rules/rule.h"

#include <yaml-cpp/yaml.h>

#include <cstdio>

#include "core/json.h"
#include "core/json_syntax.h"

namespace tsnitch {

std::string_view operator_type_name(OperatorType t) {
    switch (t) {
        case OperatorType::simple:
            return "simple";
        case OperatorType::regexp:
            return "regexp";
        case OperatorType::network:
            return "network";
        case OperatorType::list:
            return "list";
        case OperatorType::lists:
            return "lists";
        case OperatorType::range:
            return "range";
    }
    return "simple";
}

std::optional<OperatorType> operator_type_from_name(std::string_view name) {
    for (auto t : {OperatorType::simple, OperatorType::regexp, OperatorType::network,
                   OperatorType::list, OperatorType::lists, OperatorType::range}) {
        if (operator_type_name(t) == name) return t;
    }
    return std::nullopt;
}

namespace {

// Raised inside the reader only; parse_rule turns it into an Error value.
struct RuleError {
    std::string message;
};

class Reader {
  public:
    explicit Reader(std::string_view origin) : origin_(origin) {}

    [[noreturn]] void fail(const std::string& field, const std::string& what) {
        throw RuleError{origin_ + ": " + field + ": " + what};
    }

    static std::string kind(const YAML::Node& n) {
        if (n.IsMap()) return "an object";
        if (n.IsSequence()) return "a list";
        if (n.IsNull()) return "null";
        return "'" + n.Scalar() + "'";
    }

    // A string field; null reads as empty, objects and lists are wrong types.
    std::string string(const YAML::Node& n, const std::string& field) {
        if (!n || n.IsNull()) return {};
        if (!n.IsScalar()) fail(field, "expected a string, got " + kind(n));
        return n.Scalar();
    }

    bool boolean(const YAML::Node& n, const std::string& field, bool absent) {
        if (!n) return absent;
        // A quoted "true" is a string, not a boolean (as for OpenSnitch's JSON decoder).
        if (n.IsScalar() && n.Tag() != "!") {
            if (n.Scalar() == "true") return true;
            if (n.Scalar() == "false") return false;
        }
        fail(field, "expected true or false, got " + kind(n));
    }

    RuleOperator op(const YAML::Node& n, const std::string& field) {
        if (!n.IsMap()) fail(field, "expected an object, got " + kind(n));
        RuleOperator o;
        const std::string type = string(n["type"], field + ".type");
        auto t = operator_type_from_name(type);
        if (!t) {
            fail(field + ".type",
                 "expected simple, regexp, network, list, lists or range, got '" + type + "'");
        }
        o.type = *t;
        o.operand = string(n["operand"], field + ".operand");
        o.sensitive = boolean(n["sensitive"], field + ".sensitive", false);
        o.data = string(n["data"], field + ".data");
        const YAML::Node list = n["list"];
        if (list && !list.IsNull()) {
            if (!list.IsSequence()) fail(field + ".list", "expected a list, got " + kind(list));
            if (++depth_ > 8) fail(field + ".list", "lists nested deeper than 8 levels");
            for (size_t i = 0; i < list.size(); ++i) {
                o.list.push_back(op(list[i], field + ".list[" + std::to_string(i) + "]"));
            }
            --depth_;
        }
        if (o.type == OperatorType::list && o.list.empty() && !o.data.empty()) {
            // Older files keep the sub-operators only in the string copy.
            YAML::Node copy;
            try {
                copy = YAML::Load(o.data);
            } catch (const YAML::Exception& e) {
                fail(field + ".data", "expected the JSON list of sub-operators: " + e.msg);
            }
            if (!copy.IsSequence())
                fail(field + ".data", "expected the JSON list of sub-operators");
            if (++depth_ > 8) fail(field + ".data", "lists nested deeper than 8 levels");
            for (size_t i = 0; i < copy.size(); ++i) {
                o.list.push_back(op(copy[i], field + ".data[" + std::to_string(i) + "]"));
            }
            --depth_;
        }
        if (o.type == OperatorType::list && o.list.empty()) {
            fail(field + ".list", "a list operator needs at least one sub-operator");
        }
        return o;
    }

  private:
    std::string origin_;
    int depth_ = 0;
};

// yaml-cpp recurses once per nesting level; a hostile file of "[[[[..." must not exhaust the
// stack. Rule files nest four or five levels deep. Brackets inside strings count too: telling
// strings apart would need the parser this guards, and real files stay far below the limit.
bool nested_too_deep(std::string_view text) {
    int depth = 0;
    for (char c : text) {
        if ((c == '[' || c == '{') && ++depth > 64) return true;
        if ((c == ']' || c == '}') && depth > 0) --depth;
    }
    return false;
}

}  // namespace

Result<Rule> parse_rule(std::string_view text, std::string_view origin) {
    Reader r(origin);
    Rule rule;
    if (text.size() > (1u << 20)) {
        return make_error(std::string(origin) + ": larger than 1 MiB, not a rule file");
    }
    if (nested_too_deep(text)) {
        return make_error(std::string(origin) + ": nested more than 64 levels deep");
    }
    try {
        const YAML::Node root = YAML::Load(std::string(text));
        if (!root.IsMap()) r.fail("rule", "expected an object, got " + Reader::kind(root));
        rule.name = r.string(root["name"], "name");
        if (rule.name.empty()) r.fail("name", "missing or empty");
        rule.description = r.string(root["description"], "description");
        // OpenSnitch always writes `enabled`; a hand-written rule without it is meant to apply.
        rule.enabled = r.boolean(root["enabled"], "enabled", true);
        rule.precedence = r.boolean(root["precedence"], "precedence", false);
        rule.nolog = r.boolean(root["nolog"], "nolog", false);
        const std::string action = r.string(root["action"], "action");
        auto a = action_from_name(action);
        if (!a) r.fail("action", "expected allow, deny or reject, got '" + action + "'");
        rule.action = *a;
        if (root["duration"]) {
            const std::string d = r.string(root["duration"], "duration");
            auto parsed = RuleDuration::parse(d);
            if (!parsed) {
                r.fail("duration",
                       "expected once, until restart, always or a duration like 30s, 5m, 1h; "
                       "got '" +
                           d + "'");
            }
            rule.duration = *parsed;
        }
        if (!root["operator"]) r.fail("operator", "missing");
        rule.op = r.op(root["operator"], "operator");
        rule.created = r.string(root["created"], "created");
        rule.updated = r.string(root["updated"], "updated");
    } catch (const RuleError& e) {
        return make_error(e.message);
    } catch (const YAML::Exception& e) {
        // A JSON file's error in JSON's words, not the YAML reader's ("end of map flow").
        if (auto json = json_syntax_message(text, origin)) return make_error(*json);
        std::string where(origin);
        if (e.mark.line >= 0) where += ":" + std::to_string(e.mark.line + 1);
        return make_error(where + ": syntax error: " + e.msg);
    }
    return rule;
}

namespace {

std::string bool_text(bool b) {
    return b ? "true" : "false";
}

void write_operator(std::string& out, const RuleOperator& o, const std::string& indent) {
    const std::string in = indent + "  ";
    out += "{\n";
    out += in + "\"type\": " + json_quote(operator_type_name(o.type)) + ",\n";
    out += in + "\"operand\": " + json_quote(o.operand) + ",\n";
    out += in + "\"sensitive\": " + bool_text(o.sensitive) + ",\n";
    const std::string data = o.type == OperatorType::list ? operator_list_json(o.list) : o.data;
    out += in + "\"data\": " + json_quote(data) + ",\n";
    if (o.list.empty()) {
        out += in + "\"list\": null\n";
    } else {
        out += in + "\"list\": [\n";
        for (size_t i = 0; i < o.list.size(); ++i) {
            out += in + "  ";
            write_operator(out, o.list[i], in + "  ");
            out += i + 1 < o.list.size() ? ",\n" : "\n";
        }
        out += in + "]\n";
    }
    out += indent + "}";
}

}  // namespace

std::string operator_list_json(const std::vector<RuleOperator>& list) {
    std::string out = "[";
    for (size_t i = 0; i < list.size(); ++i) {
        const RuleOperator& o = list[i];
        if (i > 0) out += ", ";
        out += "{\"type\": " + json_quote(operator_type_name(o.type)) +
               ", \"operand\": " + json_quote(o.operand) +
               ", \"sensitive\": " + bool_text(o.sensitive) + ", \"data\": " +
               json_quote(o.type == OperatorType::list ? operator_list_json(o.list) : o.data);
        if (!o.list.empty()) out += ", \"list\": " + operator_list_json(o.list);
        out += "}";
    }
    return out + "]";
}

std::string rule_to_json(const Rule& r) {
    std::string out = "{\n";
    out += "  \"created\": " + json_quote(r.created) + ",\n";
    out += "  \"updated\": " + json_quote(r.updated) + ",\n";
    out += "  \"name\": " + json_quote(r.name) + ",\n";
    out += "  \"description\": " + json_quote(r.description) + ",\n";
    out += "  \"enabled\": " + bool_text(r.enabled) + ",\n";
    out += "  \"precedence\": " + bool_text(r.precedence) + ",\n";
    out += "  \"nolog\": " + bool_text(r.nolog) + ",\n";
    out += "  \"action\": " + json_quote(action_name(r.action)) + ",\n";
    out += "  \"duration\": " + json_quote(r.duration.to_string()) + ",\n";
    out += "  \"operator\": ";
    write_operator(out, r.op, "  ");
    out += "\n}\n";
    return out;
}

Status check_rule_name(std::string_view name) {
    if (name.empty()) return make_error("rule name is empty");
    if (name.size() > 200) return make_error("rule name is longer than 200 bytes");
    if (name[0] == '.') return make_error("rule name '" + std::string(name) + "' starts with '.'");
    for (char c : name) {
        if (c == '/' || static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
            return make_error("rule name " + json_quote(name) +
                              " contains '/' or a control character");
        }
    }
    return Ok{};
}

std::string rfc3339_utc(std::chrono::system_clock::time_point t) {
    using namespace std::chrono;
    const auto tp = time_point_cast<nanoseconds>(t);
    const auto day = floor<days>(tp);
    const year_month_day ymd{day};
    const hh_mm_ss hms{tp - day};
    char buf[64];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%09lldZ",
                  static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                  static_cast<unsigned>(ymd.day()), static_cast<int>(hms.hours().count()),
                  static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()),
                  static_cast<long long>(hms.subseconds().count()));
    return buf;
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) {
    using namespace std::chrono;
    size_t i = 0;
    auto num = [&](size_t n, int& out) {
        if (i + n > s.size()) return false;
        out = 0;
        for (size_t k = 0; k < n; ++k) {
            const char c = s[i + k];
            if (c < '0' || c > '9') return false;
            out = out * 10 + (c - '0');
        }
        i += n;
        return true;
    };
    auto lit = [&](char c) {
        if (i < s.size() && (s[i] == c || (c == 'T' && (s[i] == 't' || s[i] == ' ')))) {
            ++i;
            return true;
        }
        return false;
    };
    int y, mo, d, h, mi, se;
    if (!num(4, y) || !lit('-') || !num(2, mo) || !lit('-') || !num(2, d) || !lit('T') ||
        !num(2, h) || !lit(':') || !num(2, mi) || !lit(':') || !num(2, se)) {
        return std::nullopt;
    }
    long long ns = 0;
    if (i < s.size() && s[i] == '.') {
        ++i;
        int digits = 0;
        while (i < s.size() && s[i] >= '0' && s[i] <= '9') {
            if (digits < 9) ns = ns * 10 + (s[i] - '0'), ++digits;
            ++i;
        }
        if (digits == 0) return std::nullopt;
        while (digits++ < 9)
            ns *= 10;
    }
    int offset = 0;
    if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
        ++i;
    } else if (i < s.size() && (s[i] == '+' || s[i] == '-')) {
        const int sign = s[i++] == '-' ? -1 : 1;
        int oh, om;
        if (!num(2, oh) || !lit(':') || !num(2, om)) return std::nullopt;
        offset = sign * (oh * 3600 + om * 60);
    } else {
        return std::nullopt;
    }
    if (i != s.size()) return std::nullopt;
    const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                             day{static_cast<unsigned>(d)}};
    if (!ymd.ok() || h > 23 || mi > 59 || se > 60) return std::nullopt;
    // system_clock counts nanoseconds in 64 bits: 1678..2261 only (no overflow, no wrap).
    if (y < 1678 || y > 2261) return std::nullopt;
    const auto t = sys_days{ymd} + hours{h} + minutes{mi} + seconds{se} - seconds{offset};
    return time_point_cast<system_clock::duration>(t + nanoseconds{ns});
}

std::string describe_rule(const Rule& r) {
    return std::string(action_name(r.action)) + " " + describe_operator(r.op) + ", " +
           r.duration.to_string();
}

std::string describe_operator(const RuleOperator& o) {
    std::string flag = o.sensitive ? " (case-sensitive)" : "";
    switch (o.type) {
        case OperatorType::simple:
            // Not "always", which reads as a duration beside the DURATION column.
            if (o.operand == "true") return "true (every connection)";
            return o.operand + " == " + o.data + flag;
        case OperatorType::regexp:
            return o.operand + " =~ " + o.data + flag;
        case OperatorType::network:
            return o.operand + " in " + o.data;
        case OperatorType::range:
            return o.operand + " in " + o.data;
        case OperatorType::lists:
            return o.operand + " in " + o.data;
        case OperatorType::list: {
            std::string out;
            for (const RuleOperator& sub : o.list) {
                if (!out.empty()) out += " AND ";
                out += sub.type == OperatorType::list ? "(" + describe_operator(sub) + ")"
                                                      : describe_operator(sub);
            }
            return out;
        }
    }
    return {};
}

}  // namespace tsnitch
