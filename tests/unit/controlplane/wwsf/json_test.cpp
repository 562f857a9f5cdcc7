// The WWSF's flat JSON (controlplane/wwsf/json.hpp): what the reader takes,
// each refusal, and the writer's escapes.
#include "wwsf/json.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace isthmus::wwsf {
namespace {

JsonObject parse_ok(std::string_view text) {
    std::string error;
    auto obj = parse_json_object(text, error);
    EXPECT_TRUE(obj.has_value()) << text << ": " << error;
    return obj.value_or(JsonObject{});
}

std::string refusal(std::string_view text) {
    std::string error;
    auto obj = parse_json_object(text, error);
    EXPECT_FALSE(obj.has_value()) << text;
    return error;
}

TEST(Json, ReadsAFlatObjectOfStrings) {
    const JsonObject o = parse_ok(R"({"user":"alice","password":"p4ss w0rd"})");
    ASSERT_EQ(o.size(), 2u);
    EXPECT_EQ(o.at("user").kind, JsonScalar::Kind::String);
    EXPECT_EQ(o.at("user").text, "alice");
    EXPECT_EQ(o.at("password").text, "p4ss w0rd");
    EXPECT_TRUE(parse_ok(" \t\r\n{ } \n").empty());
    EXPECT_EQ(parse_ok(" { \"a\" : \"b\" , \"c\":\"\" } ").at("c").text, "");
}

TEST(Json, DecodesEscapesAndKeepsUtf8) {
    const JsonObject o =
        parse_ok(R"({"e":"q\"b\\s\/n\nt\tr\rb\bf\f","u":"\u00e9\u20ac","s":"\ud83d\ude00"})");
    EXPECT_EQ(o.at("e").text, "q\"b\\s/n\nt\tr\rb\bf\f");
    EXPECT_EQ(o.at("u").text, "\xc3\xa9\xe2\x82\xac");
    EXPECT_EQ(o.at("s").text, "\xf0\x9f\x98\x80");
    EXPECT_EQ(parse_ok("{\"raw\":\"caf\xc3\xa9\"}").at("raw").text, "caf\xc3\xa9");
}

TEST(Json, ReadsOtherScalarsWithTheirKind) {
    const JsonObject o = parse_ok(R"({"n":-1.5e+3,"z0":0,"t":true,"f":false,"x":null})");
    EXPECT_EQ(o.at("n").kind, JsonScalar::Kind::Number);
    EXPECT_EQ(o.at("n").text, "-1.5e+3");
    EXPECT_EQ(o.at("z0").text, "0");
    EXPECT_EQ(o.at("t").kind, JsonScalar::Kind::Bool);
    EXPECT_EQ(o.at("t").text, "true");
    EXPECT_EQ(o.at("f").text, "false");
    EXPECT_EQ(o.at("x").kind, JsonScalar::Kind::Null);
}

TEST(Json, RefusesWhatIsNotOneFlatObject) {
    EXPECT_NE(refusal("").find("expected '{'"), std::string::npos);
    EXPECT_NE(refusal("[]").find("expected '{'"), std::string::npos);
    EXPECT_NE(refusal(R"("x")").find("expected '{'"), std::string::npos);
    EXPECT_NE(refusal(R"({"a":{}})").find("nested"), std::string::npos);
    EXPECT_NE(refusal(R"({"a":[1]})").find("nested"), std::string::npos);
    EXPECT_NE(refusal(R"({"a":"1","a":"2"})").find("duplicate member \"a\""), std::string::npos);
    EXPECT_NE(refusal(R"({"a":"1"} x)").find("text after"), std::string::npos);
    EXPECT_NE(refusal(R"({"a":"1"}{})").find("text after"), std::string::npos);
    for (const std::string_view bad : std::vector<std::string_view>{
             "{",
             R"({"a")",
             R"({"a":)",
             R"({"a":"1",})",
             R"({"a" "1"})",
             R"({a:"1"})",
             R"({"a":'1'})",
             R"({"a":"1";"b":"2"})",
             R"({"a":tru})",
             R"({"a":nul})",
             R"({"a":01})",
             R"({"a":1.})",
             R"({"a":-})",
             R"({"a":1e})",
             R"({"a":.5})",
             R"({"a":+1})",
             R"({"a":"unterminated)",
             "{\"a\":\"x\ny\"}",
             "{\"a\":\"\x01\"}",
             R"({"a":"\x"})",
             R"({"a":"\u12"})",
             R"({"a":"\ud800"})",
             R"({"a":"\udc00"})",
             R"({"a":"\ud800\u0041"})",
             "{\"a\":\"\xff\"}",
             "{\"a\":\"\xc0\xaf\"}",
             "{\"a\":\"\xed\xa0\x80\"}",
             "{\"a\":\"\xe2\x82\"}",
             std::string_view("{\"a\":\"1\"}\0", 10),
         }) {
        refusal(bad);
    }
}

TEST(Json, BoundsTheMembers) {
    std::string text = "{";
    for (int i = 0; i < 65; ++i)
        text += (i ? "," : "") + std::string("\"m") + std::to_string(i) + "\":\"v\"";
    EXPECT_NE(refusal(text + "}").find("too many members"), std::string::npos);
}

TEST(Json, WritesEscapedFlatObjects) {
    EXPECT_EQ(json_quote("a\"b\\c\n\t\x01\x7f\xc3\xa9"),
              "\"a\\\"b\\\\c\\n\\t\\u0001\\u007f\xc3\xa9\"");
    EXPECT_EQ(JsonWriter().str(), "{}");
    EXPECT_EQ(JsonWriter()
                  .add("s", "x")
                  .add("n", int64_t{-5})
                  .add("b", true)
                  .add("q", std::string("\"</script>"))
                  .str(),
              R"({"s":"x","n":-5,"b":true,"q":"\"</script>"})");
    EXPECT_EQ(json_error("no \"guest\" free"), R"({"error":"no \"guest\" free"})");
    // What the writer writes, the reader reads back.
    const std::string odd = std::string("ctl\x02 \"q\" \\ \xe2\x82\xac\r\n");
    const JsonObject back = parse_ok(JsonWriter().add("v", odd).str());
    EXPECT_EQ(back.at("v").text, odd);
}

}  // namespace
}  // namespace isthmus::wwsf
