#include "socketio/json_text.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <string>

namespace daheim::socketio::json {
namespace {

ScanError scan_text(std::string_view text) {
  Shape shape;
  return scan(text, shape);
}

TEST(JsonText, AcceptsValidValues) {
  for (std::string_view ok : {
           "0",
           "-0",
           "12",
           "-1.5e+3",
           "1E9",
           "0.25",
           "true",
           "false",
           "null",
           R"("")",
           R"("a\"b\\c\/d\b\f\n\r\t\u00e9\uD83D\uDE00")",
           "[]",
           "{}",
           " [ 1 , 2 ] ",
           R"({"a":[1,{"b":null}],"c":"d"})",
           "\t\r\n{}\n",
           "\"caf\xc3\xa9\"",
       }) {
    EXPECT_EQ(scan_text(ok), ScanError::None) << ok;
  }
}

TEST(JsonText, RejectsInvalidValues) {
  for (std::string_view bad : {
           "",           " ",     "01",    "+1",      "1.",          ".5",
           "1e",         "-",     "--1",   "tru",     "nul",         "True",
           "NaN",        "[1,]",  "[,1]",  "{\"a\"}", "{\"a\":}",    "{a:1}",
           "{\"a\":1,}", "[1 2]", "\"abc", "\"\\x\"", "\"\\u12G4\"", "\"a\nb\"",
           "[1]]",       "{}{}",  "[1] x", "'a'",     "abc",
       }) {
    EXPECT_EQ(scan_text(bad), ScanError::Syntax) << bad;
  }
}

TEST(JsonText, LimitsNesting) {
  std::string ok(kMaxDepth, '[');
  ok.append(kMaxDepth, ']');
  EXPECT_EQ(scan_text(ok), ScanError::None);
  std::string deep(kMaxDepth + 1, '[');
  deep.append(kMaxDepth + 1, ']');
  EXPECT_EQ(scan_text(deep), ScanError::TooDeep);
  std::string objects;
  for (std::size_t i = 0; i <= kMaxDepth; ++i) objects += "{\"a\":";
  objects += "1";
  objects.append(kMaxDepth + 1, '}');
  EXPECT_EQ(scan_text(objects), ScanError::TooDeep);
}

TEST(JsonText, ReportsTheShapeOfAnArray) {
  std::string_view text = R"( ["message",1,"2",{"3":[true]}] )";
  Shape s;
  ASSERT_EQ(scan(text, s), ScanError::None);
  EXPECT_EQ(s.kind, Kind::Array);
  EXPECT_EQ(text.substr(s.begin, s.end - s.begin), R"(["message",1,"2",{"3":[true]}])");
  EXPECT_EQ(s.first, Kind::String);
  EXPECT_EQ(text.substr(s.first_begin, s.first_end - s.first_begin), "\"message\"");
  EXPECT_EQ("[" + std::string(text.substr(s.rest, s.end - s.rest)), R"([1,"2",{"3":[true]}])");
}

TEST(JsonText, RestOfAnArrayWithOneOrNoElement) {
  Shape s;
  std::string_view one = R"(["x" ])";
  ASSERT_EQ(scan(one, s), ScanError::None);
  EXPECT_EQ("[" + std::string(one.substr(s.rest, s.end - s.rest)), "[]");
  std::string_view none = "[ ]";
  ASSERT_EQ(scan(none, s), ScanError::None);
  EXPECT_EQ(s.first, Kind::None);
  EXPECT_EQ("[" + std::string(none.substr(s.rest, s.end - s.rest)), "[]");
  std::string_view spaced = R"([ 7 , {"a":1} ])";
  ASSERT_EQ(scan(spaced, s), ScanError::None);
  EXPECT_EQ(s.first, Kind::Number);
  EXPECT_EQ("[" + std::string(spaced.substr(s.rest, s.end - s.rest)), R"([ {"a":1} ])");
}

TEST(JsonText, ChecksPlaceholdersAtAnyDepth) {
  Shape s;
  std::string_view deep =
      R"(["x",{"a":[{"_placeholder":true,"num":1}]},{"_placeholder":true,"num":0}])";
  EXPECT_EQ(scan(deep, s, true, 2), ScanError::None);
  EXPECT_EQ(scan(deep, s, true, 1), ScanError::Placeholder);
  EXPECT_EQ(scan(deep, s, false, 0), ScanError::None);
  for (std::string_view bad : {
           R"([{"_placeholder":true}])",
           R"([{"_placeholder":true,"num":-1}])",
           R"([{"_placeholder":true,"num":"0"}])",
           R"([{"_placeholder":true,"num":0.5}])",
           R"([{"num":3,"_placeholder":true}])",
           R"([{"\u005fplaceholder":true,"num":9}])",
       }) {
    EXPECT_EQ(scan(bad, s, true, 1), ScanError::Placeholder) << bad;
  }
  for (std::string_view fine : {
           R"([{"_placeholder":false,"num":9}])",
           R"([{"_placeholder":"true"}])",
           R"([{"num":0,"_placeholder":true}])",
           R"([{"_placeholder":true,"num":0.0}])",
       }) {
    EXPECT_EQ(scan(fine, s, true, 1), ScanError::None) << fine;
  }
}

TEST(JsonText, ValidatesUtf8) {
  EXPECT_TRUE(valid_utf8("plain ascii text, long enough for the fast path"));
  EXPECT_TRUE(valid_utf8("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"));
  for (std::string_view bad : {"\x80", "\xc3", "\xc0\xaf", "\xe0\x80\xaf", "\xed\xa0\x80",
                               "\xf4\x90\x80\x80", "\xf5\x80\x80\x80", "abcdefgh\xff"}) {
    EXPECT_FALSE(valid_utf8(bad)) << bad;
  }
}

TEST(JsonText, AppendsEscapedStrings) {
  std::string out;
  append_string(out, "a\"b\\c\n\x01/\xc3\xa9");
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001/)"
                 "\xc3\xa9\"");
}

TEST(JsonText, Unescapes) {
  std::string out;
  unescape(R"(a\"b\\c\/\n\u0063\u00e9\uD83D\uDE00\uD800x)", out);
  EXPECT_EQ(out, "a\"b\\c/\nc\xc3\xa9\xf0\x9f\x98\x80\xef\xbf\xbdx");
}

// One pass over the text however many members an object has: the
// placeholder check looks at each key once (escaped keys are decoded, short
// ones only), and nothing compares a key with earlier keys.
TEST(JsonText, HundredThousandKeysScanInLinearTime) {
  std::string text = "{";
  for (int i = 0; i < 100000; ++i) text += "\"k\\u0065y" + std::to_string(100000 + i) + "\":0,";
  text += "\"_placeholder\":true,\"num\":0}";
  ASSERT_GE(text.size(), 1000000u);
  Shape shape;
  auto start = std::chrono::steady_clock::now();
  ScanError error = scan(text, shape, true, 1);
  auto ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start);
  std::printf("json::scan: %zu bytes, 100002 keys (escaped) in %.1f ms\n", text.size(), ms.count());
  EXPECT_EQ(error, ScanError::None);
  EXPECT_EQ(shape.kind, Kind::Object);
  EXPECT_LT(ms.count(), 1500.0);  // linear: a few ms
  // The same members without a valid "num": the check still sees the object whole.
  EXPECT_EQ(scan(text, shape, true, 0), ScanError::Placeholder);
}

}  // namespace
}  // namespace daheim::socketio::json
