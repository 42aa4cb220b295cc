// Rule files: OpenSnitch's JSON read unchanged, YAML, what a broken file reports, writing back.
#include <doctest/doctest.h>

#include <sys/stat.h>

#include <filesystem>

#include "core/json.h"
#include "core/rules/rule_store.h"
#include "rules_helpers.h"

using namespace rules_test;

namespace {

Rule parse_file(const std::string& path) {
    auto r = parse_rule(read(path), path);
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    return *r;
}

std::string load_error(const std::string& path) {
    ScratchDir d;
    std::filesystem::copy_file(path, d.file("rule.json"));
    RuleStore s({.dir = d.path, .compile = test_context()});
    auto problems = s.load();
    REQUIRE(problems.size() == 1);
    CHECK(s.rules().empty());
    return problems[0].message;
}

}  // namespace

TEST_CASE("an OpenSnitch list rule reads with its sub-operators and data copy") {
    Rule r = parse_file("tests/data/rules/opensnitch/deny-always-list-firefox-example.json");
    CHECK(r.name == "deny-always-list-firefox-example");
    CHECK(r.action == Action::deny);
    CHECK(r.enabled);
    CHECK_FALSE(r.precedence);
    CHECK(r.duration.kind == RuleDuration::Kind::always);
    CHECK(r.created == "2024-02-11T18:20:32.537467936+01:00");
    REQUIRE(r.op.type == OperatorType::list);
    REQUIRE(r.op.list.size() == 2);
    CHECK(r.op.list[0].operand == "process.path");
    CHECK(r.op.list[0].data == "/usr/lib/firefox/firefox");
    CHECK(r.op.list[1].type == OperatorType::regexp);
    CHECK(r.op.list[1].data == "^(|.*\\.)example\\.com$");
}

TEST_CASE("a list operator with its sub-operators only in data still reads") {
    auto r = parse_rule(R"({"name":"x","action":"deny","operator":{"type":"list","operand":"list",
        "data":"[{\"type\": \"simple\", \"operand\": \"dest.port\", \"data\": \"22\"}]",
        "list":null}})",
                        "x.json");
    REQUIRE_MESSAGE(r, (r ? "" : r.error().message));
    REQUIRE(r->op.list.size() == 1);
    CHECK(r->op.list[0].operand == "dest.port");
    CHECK(r->op.list[0].data == "22");
}

TEST_CASE("written rules read back equal, in OpenSnitch's layout") {
    Rule r = parse_file("tests/data/rules/opensnitch/deny-always-list-firefox-example.json");
    const std::string text = rule_to_json(r);
    auto back = parse_rule(text, "written");
    REQUIRE(back);
    CHECK(*back == r);
    // The data copy is the JSON of the sub-operators, readable on its own.
    const std::string copy_text = json_quote(operator_list_json(r.op.list));
    CHECK(text.find("\"data\": " + copy_text) != std::string::npos);
    auto copy = parse_rule(
        R"({"name":"y","action":"deny","operator":{"type":"list","data":)" + copy_text + "}}",
        "copy");
    REQUIRE_MESSAGE(copy, (copy ? "" : copy.error().message));
    CHECK(copy->op.list == r.op.list);
    CHECK(text.find("\n  \"operator\": {\n    \"type\": \"list\",") != std::string::npos);
}

TEST_CASE("every OpenSnitch test file loads") {
    ScratchDir d;
    for (const auto& e : std::filesystem::directory_iterator("tests/data/rules/opensnitch")) {
        std::filesystem::copy_file(e.path(), d.file(e.path().filename()));
    }
    RuleStore s({.dir = d.path, .compile = test_context()});
    auto problems = s.load();
    for (const Error& p : problems)
        FAIL_CHECK(p.message);
    CHECK(s.rules().size() == 7);
}

TEST_CASE("YAML rule files read the same as JSON") {
    Rule r = parse_file("tests/data/rules/yaml/allow-ssh.yml");
    CHECK(r.name == "allow-ssh-to-bastion");
    CHECK(r.precedence);
    CHECK(r.action == Action::allow);
    REQUIRE(r.op.list.size() == 2);
    CHECK(r.op.list[1].data == "bastion.example.com");
}

TEST_CASE("broken rule files are reported with file and field") {
    const std::string dir = "tests/data/rules/broken/";
    CHECK(load_error(dir + "syntax-error.json").find("rule.json:") != std::string::npos);
    CHECK(load_error(dir + "syntax-error.json").find("syntax error") != std::string::npos);
    CHECK(load_error(dir + "unknown-operand.json")
              .ends_with("rule.json: operator.operand: unknown operand 'process.colour'"));
    CHECK(load_error(dir + "bad-regexp.json").find("rule.json: operator.data: bad regexp") !=
          std::string::npos);
    CHECK(load_error(dir + "bad-cidr.json")
              .ends_with("operator.data: expected a network like 10.0.0.0/8, got '10.0.0.0/33'"));
    CHECK(load_error(dir + "unknown-action.json")
              .ends_with("rule.json: action: expected allow, deny or reject, got 'maybe'"));
    CHECK(load_error(dir + "wrong-type.json")
              .ends_with("rule.json: enabled: expected true or false, got 'yes'"));
    CHECK(load_error(dir + "bad-sub-operator.json")
              .ends_with("rule.json: operator.list[1].data: expected a number, got 'http'"));
}

TEST_CASE("a broken file does not keep the others from loading") {
    ScratchDir d;
    for (const auto& e : std::filesystem::directory_iterator("tests/data/rules/broken")) {
        std::filesystem::copy_file(e.path(), d.file(e.path().filename()));
    }
    RuleStore s({.dir = d.path, .compile = test_context()});
    auto problems = s.load();
    CHECK(problems.size() == 7);
    REQUIRE(s.rules().size() == 1);
    CHECK(s.rules()[0].rule.name == "allow-always-simple-usrbincurl");
    CHECK(s.match(conn()));
}

TEST_CASE("wrong types are errors, not guesses") {
    auto err = [](const char* text) {
        auto r = parse_rule(text, "t.json");
        REQUIRE(!r);
        return r.error().message;
    };
    CHECK(err(R"({"name":"a","action":"allow","operator":"process.path"})") ==
          "t.json: operator: expected an object, got 'process.path'");
    CHECK(err(R"({"name":"a","action":"allow","operator":{"type":"simple","sensitive":"true"}})") ==
          "t.json: operator.sensitive: expected true or false, got 'true'");
    CHECK(err(R"({"name":"a","action":"allow","operator":{"type":"glob"}})")
              .starts_with("t.json: operator.type: expected simple, regexp"));
    CHECK(err(R"({"name":"a","action":"allow","duration":"forever","operator":{"type":"simple"}})")
              .starts_with("t.json: duration: expected once"));
    CHECK(err(R"({"action":"allow","operator":{"type":"simple"}})") ==
          "t.json: name: missing or empty");
    CHECK(err(R"({"name":"a","action":"allow","operator":{"type":"list","list":{}}})") ==
          "t.json: operator.list: expected a list, got an object");
    CHECK(err(R"([1,2])") == "t.json: rule: expected an object, got a list");
}

TEST_CASE("RFC 3339 times read and write") {
    using namespace std::chrono;
    auto t = parse_rfc3339("2024-02-11T18:20:32.537467936+01:00");
    REQUIRE(t);
    CHECK(rfc3339_utc(*t) == "2024-02-11T17:20:32.537467936Z");
    CHECK(parse_rfc3339("2024-02-11T17:20:32Z") == parse_rfc3339("2024-02-11T18:20:32+01:00"));
    CHECK_FALSE(parse_rfc3339("2024-02-30T00:00:00Z"));
    CHECK_FALSE(parse_rfc3339("yesterday"));
}

TEST_CASE("rule names must be usable as file names") {
    CHECK(check_rule_name("allow-always-simple-usrbincurl"));
    CHECK_FALSE(check_rule_name(""));
    CHECK_FALSE(check_rule_name("../etc/passwd"));
    CHECK_FALSE(check_rule_name(".hidden"));
    CHECK_FALSE(check_rule_name("a\nb"));
    CHECK(check_rule_name(std::string(200, 'a')));
    CHECK_FALSE(check_rule_name(std::string(201, 'a')));
}

TEST_CASE("a hostile rule file is refused before yaml-cpp reads it") {
    auto big = parse_rule(std::string((1u << 20) + 1, ' '), "rules/big.json");
    REQUIRE_FALSE(big);
    CHECK(big.error().message == "rules/big.json: larger than 1 MiB, not a rule file");
    auto deep = parse_rule(std::string(100000, '[') + std::string(100000, ']'), "rules/deep.json");
    REQUIRE_FALSE(deep);
    CHECK(deep.error().message.find("rules/deep.json") == 0);
}
