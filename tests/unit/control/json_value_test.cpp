#include <doctest/doctest.h>

#include <string>

#include "core/json_value.h"

using namespace tsnitch;

TEST_CASE("the JSON reader reads every kind of value, keys in text order") {
    auto v = parse_json(
        R"( {"a":1,"b":-2.5e3,"c":"x\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00","d":[true,false,null],"e":{}} )");
    REQUIRE(v.ok());
    REQUIRE(v->kind() == JsonValue::Kind::object);
    REQUIRE(v->members().size() == 5);
    CHECK(v->members()[0].first == "a");
    CHECK(v->find("a")->as_u64() == 1u);
    CHECK(v->find("b")->number_text() == "-2.5e3");
    CHECK_FALSE(v->find("b")->as_i64().has_value());
    CHECK(v->find("c")->as_string() == "x\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
    CHECK(v->find("d")->items().size() == 3);
    CHECK(v->find("d")->items()[2].is_null());
    CHECK(v->find("e")->members().empty());
    CHECK(v->find("zz") == nullptr);
}

TEST_CASE("integers convert exactly or not at all") {
    CHECK(parse_json("18446744073709551615")->as_u64() == UINT64_MAX);
    CHECK_FALSE(parse_json("18446744073709551616")->as_u64().has_value());
    CHECK_FALSE(parse_json("-1")->as_u64().has_value());
    CHECK(parse_json("-9223372036854775808")->as_i64() == INT64_MIN);
    CHECK_FALSE(parse_json("1.0")->as_u64().has_value());
    CHECK_FALSE(parse_json("1e2")->as_u64().has_value());
}

TEST_CASE("malformed JSON is an error that says where") {
    const char* bad[] = {
        "",
        "{",
        "{\"a\"}",
        "{\"a\":1,}",
        "[1,]",
        "[1 2]",
        "01",
        "1.",
        "-",
        "1e",
        "tru",
        "nul",
        "\"abc",
        "\"a\x01\"",
        "\"\\x\"",
        "\"\\u12\"",
        "\"\\ud800\"",
        "\"\\udc00\"",
        "{\"a\":1,\"a\":2}",
        "1 2",
        "{1:2}",
        "[\"a\",]",
    };
    for (const char* text : bad) {
        CAPTURE(text);
        auto v = parse_json(text);
        REQUIRE_FALSE(v.ok());
        CHECK(v.error().message.rfind("at byte ", 0) == 0);
    }
    CHECK(parse_json("{\"a\":1,\"a\":2}").error().message.find("duplicate key 'a'") !=
          std::string::npos);
}

TEST_CASE("nesting and the number of values are bounded") {
    std::string deep(17, '[');
    deep += std::string(17, ']');
    auto v = parse_json(deep, JsonLimits{16, 1000});
    REQUIRE_FALSE(v.ok());
    CHECK(v.error().message.find("nested deeper than 16") != std::string::npos);
    CHECK(parse_json(std::string(16, '[') + std::string(16, ']'), JsonLimits{16, 1000}).ok());

    // A million-deep text fails fast instead of exhausting the stack.
    CHECK_FALSE(parse_json(std::string(1000000, '[')).ok());

    std::string many = "[";
    for (int i = 0; i < 2000; ++i)
        many += i ? ",0" : "0";
    many += "]";
    auto m = parse_json(many, JsonLimits{16, 1000});
    REQUIRE_FALSE(m.ok());
    CHECK(m.error().message.find("more than 1000 values") != std::string::npos);
}

TEST_CASE("strings written and read back are the same bytes, also bytes that are not UTF-8") {
    const std::string samples[] = {
        "plain",
        "quote \" backslash \\ newline \n tab \t del \x7f nul " + std::string(1, '\0'),
        "\xc3\xa9t\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",  // valid UTF-8 stays as it is
        "latin-1 \xe9t\xe9, lone \x80, cut \xe2\x82, overlong \xc0\xaf, surrogate \xed\xa0\x80",
        "\xff\xfe",
    };
    for (const std::string& s : samples) {
        std::string out;
        write_json_string(out, s);
        CAPTURE(out);
        for (char c : out)
            CHECK(static_cast<unsigned char>(c) >= 0x20);
        auto v = parse_json(out);
        REQUIRE(v.ok());
        CHECK(v->as_string() == s);
    }
    std::string out;
    write_json_string(out, "\xc3\xa9\xe9");
    CHECK(out == "\"\xc3\xa9\\udce9\"");
}
