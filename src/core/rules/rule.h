// One rule as OpenSnitch writes it (DESIGN.md §5): the model, reading a rule file (JSON or YAML,
// through yaml-cpp) and writing one back the way OpenSnitch does (two-space indented JSON, field
// order of its Rule struct, a `list` operator's sub-operators in `list` and a JSON copy in `data`).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/connection.h"
#include "core/duration.h"
#include "core/result.h"

namespace tsnitch {

enum class OperatorType : uint8_t { simple, regexp, network, list, lists, range };
std::string_view operator_type_name(OperatorType t);
std::optional<OperatorType> operator_type_from_name(std::string_view name);

struct RuleOperator {
    OperatorType type = OperatorType::simple;
    std::string operand;  // "process.path", "process.env.HOME", "lists.domains", "list", ...
    bool sensitive = false;
    std::string data;
    std::vector<RuleOperator> list;  // the AND-ed sub-operators of a `list` operator

    friend bool operator==(const RuleOperator&, const RuleOperator&) = default;
};

struct Rule {
    std::string name;
    std::string description;
    bool enabled = true;
    bool precedence = false;
    bool nolog = false;
    Action action = Action::deny;
    RuleDuration duration{RuleDuration::Kind::always, {}};
    RuleOperator op;
    std::string created;  // RFC 3339 as written ("2026-11-28T20:01:02.345678+01:00")
    std::string updated;

    friend bool operator==(const Rule&, const Rule&) = default;
};

// Reads a rule file's text. Checks the syntax and the type of every field; what the fields mean
// (operands, regexps, networks) is checked when the rule is compiled. Errors name the origin and
// the field: "rules/x.json: operator.list[1].sensitive: expected true or false, got 'yes'".
// Unknown keys are ignored, as OpenSnitch does.
Result<Rule> parse_rule(std::string_view text, std::string_view origin);

// Rule files are read up to one byte past parse_rule's 1 MiB limit, so an oversized file is
// reported as such rather than cut.
inline constexpr size_t kRuleFileReadLimit = (size_t{1} << 20) + 1;
// The largest rule file (read_settings_file refuses a larger one).
inline constexpr size_t kRuleFileLimit = size_t{1} << 20;

// The file text for a rule. The data of a `list` operator is rewritten as the JSON copy of its
// sub-operators, as OpenSnitch's UI does.
std::string rule_to_json(const Rule& r);

// JSON array of the sub-operators, OpenSnitch's string copy of a list operator.
std::string operator_list_json(const std::vector<RuleOperator>& list);

// A rule name usable as a file name: not empty, at most 200 bytes, no '/', NUL or control
// characters, and not starting with '.'.
Status check_rule_name(std::string_view name);

// "2026-11-28T20:01:02.123456789Z" (UTC, what tsnitch writes) and parsing of any RFC 3339 time.
std::string rfc3339_utc(std::chrono::system_clock::time_point t);
std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view text);

// A short one-line summary of an operator: "process.path == /usr/bin/curl",
// "dest.host =~ ^(|.*\.)example\.com$", "process.path == /usr/bin/curl AND dest.port == 443".
std::string describe_operator(const RuleOperator& op);
// "allow process.path == /usr/bin/curl, always": action, operator, duration (for log lines).
std::string describe_rule(const Rule& r);

}  // namespace tsnitch
