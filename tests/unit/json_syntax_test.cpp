#include "core/json_syntax.h"

#include <doctest/doctest.h>

#include <cstdint>
#include <string>

#include "core/config.h"
#include "core/json_value.h"
#include "core/rules/rule.h"

using namespace tsnitch;

namespace {
std::string message_of(std::string_view text) {
    auto e = json_syntax_error(text);
    REQUIRE_MESSAGE(e, std::string(text));
    return std::to_string(e->line) + ":" + std::to_string(e->column) + " " + e->message;
}
}  // namespace

TEST_CASE("valid JSON has no syntax error") {
    for (const char* t : {"{}", "[]", " {\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\n\"]}\n",
                          "0", "\"s\"", "{\"a\":{\"b\":{}}}", "[0.5, 1E+2, -0]"}) {
        INFO(t);
        CHECK_FALSE(json_syntax_error(t));
    }
}

TEST_CASE("each JSON error is named in JSON's words, with line and column") {
    CHECK(message_of("{\"DefaultAction\": \"deny\",") ==
          "1:26 expected a member name in double quotes, found the end of the text");
    CHECK(message_of("{\n  \"a\": 1\n  \"b\": 2\n}") ==
          "3:3 expected ',' or '}' after an object member, found '\"'");
    CHECK(message_of("{\"a\" 1}") == "1:6 expected ':' after the member name, found '1'");
    CHECK(message_of("{a: 1}") == "1:2 expected a member name in double quotes, found 'a'");
    CHECK(message_of("{\"a\": 1,}") == "1:9 expected a member name in double quotes, found '}'");
    CHECK(message_of("[1 2]") == "1:4 expected ',' or ']' after an array element, found '2'");
    CHECK(message_of("{\"a\": tru}") == "1:7 expected a value, found 't'");
    CHECK(message_of("{\"a\": \"x}") == "1:10 a string without its closing '\"'");
    CHECK(message_of("{\"a\": \"\\q\"}") == "1:9 unknown escape '\\q' in a string");
    CHECK(message_of("{\"a\": \"\\u12\"}") == "1:9 expected four hex digits after \\u");
    CHECK(message_of("{\"a\": \"x\ty\"}") ==
          "1:9 a control character inside a string (write it as \\uXXXX)");
    CHECK(message_of("{\"a\": 01}") == "1:8 expected ',' or '}' after an object member, found '1'");
    CHECK(message_of("{\"a\": 1.}") == "1:9 expected a digit after '.' in a number, found '}'");
    CHECK(message_of("{\"a\": -}") == "1:8 expected a digit in a number, found '}'");
    CHECK(message_of("{} x") == "1:4 text after the end of the JSON value");
    CHECK(message_of("") == "1:1 expected a value, found the end of the text");
    CHECK(message_of(std::string(300, '[') + std::string(300, ']')) ==
          "1:257 nested deeper than 256 levels");
}

TEST_CASE("files are checked by the control protocol's reader: duplicates and surrogates too") {
    CHECK(message_of("{\"a\": 1,\n \"a\": 2}") == "2:2 duplicate key 'a'");
    CHECK(message_of("[\"\\ud800x\"]") == "1:4 a \\u high surrogate without its low surrogate");
    CHECK(message_of("[\"\\udc00\"]") == "1:4 a \\u low surrogate without its high surrogate");
    // The same first error as the control protocol's parse_json, at the same byte.
    for (const char* t : {"{\"a\" 1}", "[1 2]", "{\"a\":1,\"a\":2}", "\"\\q\"", "-"}) {
        INFO(t);
        auto e = json_syntax_error(t);
        auto v = parse_json(t, JsonLimits{256, SIZE_MAX});
        REQUIRE(e);
        REQUIRE_FALSE(v.ok());
        CHECK(v.error().message.find(e->message) != std::string::npos);
    }
}

TEST_CASE("only a text that starts as JSON gets JSON's words") {
    CHECK(looks_like_json("  \n{ \"a\""));
    CHECK(looks_like_json("{}"));
    CHECK(looks_like_json("["));
    CHECK_FALSE(looks_like_json("{name: x, action: allow}"));  // YAML's flow style
    CHECK_FALSE(json_syntax_message("{name: x,", "r.yaml"));
    CHECK_FALSE(looks_like_json("DefaultAction: deny"));
    CHECK_FALSE(looks_like_json(""));
    CHECK_FALSE(json_syntax_message("a: [1", "c.yaml"));
    CHECK_FALSE(json_syntax_message("{\"a\": 1}", "c.json"));
    CHECK(json_syntax_message("{\"a\" 1}", "c.json") ==
          "c.json:1:6: JSON syntax error: expected ':' after the member name, found '1'");
}

TEST_CASE("configuration and rule files that are broken JSON say so in JSON's words") {
    auto c = parse_config("{\n  \"DefaultAction\": \"deny\"\n  \"QueueNum\": 1\n}\n",
                          "/etc/tsnitch/x.json");
    REQUIRE_FALSE(c);
    CHECK(c.error().message ==
          "/etc/tsnitch/x.json:3:3: JSON syntax error: expected ',' or '}' after an object member, "
          "found '\"'");
    // YAML's flow style is still YAML: read as before.
    auto flow = parse_config("{DefaultAction: allow, QueueNum: 3}", "c.yaml");
    REQUIRE_MESSAGE(flow, flow.error().message);
    CHECK(flow->queue_num == 3);
    auto bad_yaml = parse_config("DefaultAction: [deny\n", "c.yaml");
    REQUIRE_FALSE(bad_yaml);
    CHECK(bad_yaml.error().message.find("c.yaml:") == 0);
    CHECK(bad_yaml.error().message.find("JSON") == std::string::npos);
    auto r = parse_rule("{\"name\": \"x\", \"action\": \"allow\" \"operator\": {}}", "r.json");
    REQUIRE_FALSE(r);
    CHECK(r.error().message.find("r.json:1:33: JSON syntax error: expected ',' or '}'") == 0);
}
