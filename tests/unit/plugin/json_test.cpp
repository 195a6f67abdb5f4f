// dhl::Json, the SDK's JSON value: parse, dump, placeholders, accessors.
#include <gtest/gtest.h>
#include <daheim/json.hpp>

#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

namespace {

using dhl::Json;

std::string round_trip(std::string_view text) {
  auto j = Json::parse(text);
  return j ? j->dump() : "<error>";
}

TEST(Json, RoundTripsCompactText) {
  for (std::string_view t : {"null", "true", "false", "0", "-12", "1.5", "\"a\"", "[]", "{}",
                             R"([1,"two",{"three":[3,null]},false])", R"({"a":{"b":{"c":[]}}})",
                             "9007199254740993", "-9223372036854775808"})
    EXPECT_EQ(round_trip(t), t) << t;
}

TEST(Json, WhitespaceNumbersAndEscapes) {
  EXPECT_EQ(round_trip(" [ 1 , 2 ]\n"), "[1,2]");
  EXPECT_EQ(round_trip("1e3"), "1000");
  EXPECT_EQ(round_trip("0.1"), "0.1");
  EXPECT_EQ(round_trip("18446744073709551616"), "18446744073709551616");  // a double
  // Negative zero is written "0", as JavaScript writes it: "-0" would parse back as an integer
  // and dump differently (found by tests/fuzz/json_fuzz).
  EXPECT_EQ(round_trip("-0e-3"), "0");
  EXPECT_EQ(round_trip("-0.0"), "0");
  EXPECT_EQ(Json(-0.0).dump(), "0");
  EXPECT_EQ(round_trip(R"("\u00e9\ud83d\ude00\n\t\"\\\/")"), "\"é😀\\n\\t\\\"\\\\/\"");
  EXPECT_EQ(round_trip(R"("\ud800x")"), "\"\xEF\xBF\xBDx\"");  // a lone surrogate
  EXPECT_EQ(round_trip("\"\x01\""), "<error>");
  EXPECT_EQ(Json("\x01").dump(), "\"\\u0001\"");
}

TEST(Json, RefusesWhatIsNotJson) {
  for (std::string_view t : {"", "[", "[1,]", "{\"a\"}", "{a:1}", "01", "1.", "-", "tru", "[1] x",
                             "\"\xff\"", "\"\xed\xa0\x80\"", "'a'", "NaN"})
    EXPECT_FALSE(Json::parse(t)) << t;
  std::string deep(300, '[');
  EXPECT_FALSE(Json::parse(deep + std::string(300, ']')));
  std::string error;
  EXPECT_FALSE(Json::parse("[1,}", {}, &error));
  EXPECT_EQ(error, "unexpected character at offset 3");
}

TEST(Json, Accessors) {
  const Json j = *Json::parse(R"({"n":7,"d":2.5,"s":"x","a":[1,2],"o":{"k":true}})");
  EXPECT_EQ(j["n"].as_int(), 7);
  EXPECT_EQ(j["d"].as_double(), 2.5);
  EXPECT_EQ(j["d"].as_int(), 2);
  EXPECT_EQ(j["s"].as_string(), "x");
  EXPECT_EQ(j["a"][1].as_int(), 2);
  EXPECT_TRUE(j["a"][5].is_null());
  EXPECT_TRUE(j["missing"]["deeper"].is_null());
  EXPECT_TRUE(j["o"]["k"].as_bool());
  EXPECT_EQ(j["s"].as_int(-1), -1);
  EXPECT_EQ(j.size(), 5u);
  EXPECT_TRUE(j.contains("o"));
  EXPECT_EQ(Json(1), Json(1.0));
  Json m = j;
  EXPECT_TRUE(m["added"].is_null());  // mutable access inserts, as in std::map
  EXPECT_EQ(m.size(), 6u);
}

TEST(Json, Building) {
  Json j = Json::object({{"id", 7}, {"tags", Json::array({"a", "b"})}});
  j["ready"] = true;
  j["id"] = "seven";  // replaces, keeps the order
  j["list"].push_back(nullptr);
  EXPECT_EQ(j.dump(), R"({"id":"seven","tags":["a","b"],"ready":true,"list":[null]})");
  EXPECT_EQ(Json::parse(R"({"a":1,"a":2})")->dump(), R"({"a":2})");
}

TEST(Json, PlaceholdersBecomeBinaryAndBack) {
  std::vector<std::string_view> att = {"abc", std::string_view("\0\1", 2)};
  auto j = Json::parse(R"(["x",{"_placeholder":true,"num":1},{"b":{"_placeholder":true,"num":0}}])",
                       att);
  ASSERT_TRUE(j);
  EXPECT_TRUE((*j)[1].is_binary());
  EXPECT_EQ((*j)[1].as_binary().size(), 2u);
  EXPECT_EQ((*j)[2]["b"].as_binary()[2], 'c');
  std::vector<std::string> out;
  EXPECT_EQ(j->dump(&out),
            R"(["x",{"_placeholder":true,"num":0},{"b":{"_placeholder":true,"num":1}}])");
  EXPECT_EQ(out, (std::vector<std::string>{std::string("\0\1", 2), "abc"}));
  // Without attachments (or out of range) a placeholder stays an object.
  EXPECT_TRUE((*Json::parse(R"({"_placeholder":true,"num":3})", att)).is_object());
}

TEST(Json, RepeatedKeysKeepTheFirstPlaceAndTheLastValue) {
  EXPECT_EQ(Json::parse(R"({"a":1,"b":2,"a":3,"c":4,"b":5,"a":6})")->dump(),
            R"({"a":6,"b":5,"c":4})");
  // The same above the size where the parser switches to a hash index.
  std::string text = "{";
  std::string want = "{";
  for (int i = 0; i < 40; ++i) {
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(i) + ",";
    want += "\"k" + std::to_string(i) + "\":" + std::to_string(i % 10 == 0 ? 100 + i : i) + ",";
  }
  for (int i = 0; i < 40; i += 10)
    text += "\"k" + std::to_string(i) + "\":" + std::to_string(100 + i) + ",";
  text.back() = '}';
  want.back() = '}';
  EXPECT_EQ(Json::parse(text)->dump(), want);
}

// Many keys in one object: linear, not a scan of every earlier key per key
// (100k keys took seconds that way, long enough for the watchdog).
TEST(Json, HundredThousandKeysParseInLinearTime) {
  std::string text = "{";
  for (int i = 0; i < 100000; ++i) text += "\"key" + std::to_string(1000000 + i) + "\":0,";
  text.back() = '}';
  ASSERT_GE(text.size(), 1000000u);
  auto start = std::chrono::steady_clock::now();
  auto j = Json::parse(text);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::printf("dhl::Json::parse: %zu bytes, 100000 keys in %.1f ms\n", text.size(), ms.count());
  ASSERT_TRUE(j);
  EXPECT_EQ(j->size(), 100000u);
  EXPECT_EQ(j->members().back().first, "key1099999");
  EXPECT_LT(ms.count(), 1500.0);  // linear: tens of ms; the quadratic scan took seconds
  // The same object with every key twice still has 100k members.
  std::string twice = text.substr(0, text.size() - 1) + "," + text.substr(1);
  start = std::chrono::steady_clock::now();
  j = Json::parse(twice);
  ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::printf("dhl::Json::parse: %zu bytes, 200000 keys (each twice) in %.1f ms\n", twice.size(),
              ms.count());
  ASSERT_TRUE(j);
  EXPECT_EQ(j->size(), 100000u);
  EXPECT_LT(ms.count(), 3000.0);
}

TEST(Json, NestingIsCapped) {
  std::string ok(Json::kMaxDepth, '[');
  ok += std::string(Json::kMaxDepth, ']');
  EXPECT_TRUE(Json::parse(ok));
  std::string deep(Json::kMaxDepth + 1, '[');
  deep += std::string(Json::kMaxDepth + 1, ']');
  std::string error;
  EXPECT_FALSE(Json::parse(deep, {}, &error));
  EXPECT_EQ(error, "nested too deeply at offset 256");
  std::string objects;
  for (std::size_t i = 0; i <= Json::kMaxDepth; ++i) objects += "{\"a\":";
  EXPECT_FALSE(Json::parse(objects + "1" + std::string(Json::kMaxDepth + 1, '}')));
}

}  // namespace
