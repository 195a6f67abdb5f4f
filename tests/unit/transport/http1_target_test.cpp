// The request target decoded as lws 4.1.6's header parser leaves it for
// read_request() (core/transport/http1_target): exact paths and arguments,
// worked out from lws_parse_urldecode() and lws_hdr_copy_fragment().
#include "transport/http1_target.hpp"

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

namespace daheim::transport::http1 {
namespace {

using Args = std::vector<std::pair<std::string, std::string>>;

struct Decoded {
  TargetVerdict verdict;
  std::string path;
  Args query;
};

Decoded decode(std::string_view target, std::size_t max_arg = 4096) {
  std::string path;
  std::vector<engineio::Header> query;
  Decoded d{decode_target(target, max_arg, path, query).verdict, path, {}};
  for (const auto& [k, v] : query) d.query.emplace_back(k, v);
  return d;
}

TEST(Http1Target, PlainTargetIsSplitAtQuestionMarkAndAmpersands) {
  Decoded d = decode("/socket.io/?EIO=4&transport=polling&sid=abc");
  EXPECT_EQ(d.verdict, TargetVerdict::Ok);
  EXPECT_EQ(d.path, "/socket.io/");
  EXPECT_EQ(d.query, (Args{{"EIO", "4"}, {"transport", "polling"}, {"sid", "abc"}}));
}

TEST(Http1Target, EscapesAndPlusAreDecoded) {
  // engine.io-client's query {token: "a+b/c="}, and a '+' meaning a space.
  Decoded d = decode("/socket.io/?EIO=4&token=a%2Bb%2Fc%3D&t=x+y&u=%26%3B");
  EXPECT_EQ(d.verdict, TargetVerdict::Ok);
  EXPECT_EQ(d.path, "/socket.io/");
  EXPECT_EQ(d.query, (Args{{"EIO", "4"}, {"token", "a+b/c="}, {"t", "x y"}, {"u", "&;"}}));
}

TEST(Http1Target, EncodedEqualsInANameBecomesUnderscore) {
  EXPECT_EQ(decode("/p?a%3Db=c%3Dd&e=f=g").query, (Args{{"a_b", "c=d"}, {"e", "f=g"}}));
}

TEST(Http1Target, EmptyArgumentsAndSemicolonsAreKept) {
  EXPECT_EQ(decode("/p?a=1&&b=2").query, (Args{{"a", "1"}, {"", ""}, {"b", "2"}}));
  EXPECT_EQ(decode("/p?a=1;b=2").query, (Args{{"a", "1"}, {"b", "2"}}));
  // lws ends an empty last part with the '/' it puts into an empty target.
  EXPECT_EQ(decode("/p?a=1&").query, (Args{{"a", "1"}, {"/", ""}}));
  EXPECT_EQ(decode("/p?").query, (Args{{"/", ""}}));
  EXPECT_EQ(decode("/p").query, Args{});
  // '?' and '#' inside the query are plain characters.
  EXPECT_EQ(decode("/p?a=?b#c").query, (Args{{"a", "?b#c"}}));
}

TEST(Http1Target, PathIsFolded) {
  EXPECT_EQ(decode("//socket.io//./x/../?EIO=4").path, "/socket.io/");
  EXPECT_EQ(decode("/a/b/..").path, "/a");
  EXPECT_EQ(decode("/a/..").path, "/");
  EXPECT_EQ(decode("/a/.").path, "/a/");
  EXPECT_EQ(decode("/a/.b/..c").path, "/a/.b/..c");
  EXPECT_EQ(decode("/%2E%2E/socket.io/").path, "/socket.io/");
  EXPECT_EQ(decode("/socket.io/%41").path, "/socket.io/A");
  // '+' is a space only where lws takes it so: not right after a '/'.
  EXPECT_EQ(decode("/a+b/+c").path, "/a b/+c");
  // "/.." then '?' with nothing to go back over: lws swallows the '?'.
  Decoded d = decode("/..?q=1");
  EXPECT_EQ(d.path, "/q=1");
  EXPECT_EQ(d.query, Args{});
}

TEST(Http1Target, SeparatorsInThePathLeaveLwsItsNulBytes) {
  // lws ends the first part with a NUL and skips a byte: the path it gives
  // holds both (the skipped byte is stale memory there, a NUL here).
  EXPECT_EQ(decode("/a;b?x").path, std::string("/a\0\0", 4));
  EXPECT_EQ(decode("/a/&b").path, "/a/&b");  // right after '/': a plain character
  // A decoded NUL right after a '/' is written but not counted.
  EXPECT_EQ(decode("/%00x").path, std::string("/\0", 2));
}

TEST(Http1Target, BadEscapesAndNulAreRefusedAsLwsRefusesThem) {
  EXPECT_EQ(decode("/p?a=%zz").verdict, TargetVerdict::Forbidden);
  EXPECT_EQ(decode("/p?a=%4").verdict, TargetVerdict::Forbidden);
  EXPECT_EQ(decode("/p%").verdict, TargetVerdict::Forbidden);
  EXPECT_EQ(decode("/p?a=%00").verdict, TargetVerdict::Broken);
}

TEST(Http1Target, ArgumentLongerThanTheCopyBufferEndsTheList) {
  EXPECT_EQ(decode("/p?a=1&bbbbbbbbbb=2&c=3", 8).query, (Args{{"a", "1"}}));
  EXPECT_EQ(decode("/p?a=1&bbbbbb=2&c=3", 8).query,
            (Args{{"a", "1"}, {"bbbbbb", "2"}, {"c", "3"}}));
}

TEST(Http1Target, ReusesTheOutputAndCountsParts) {
  std::string path;
  std::vector<engineio::Header> query;
  TargetResult r = decode_target("/p?a=1&b=2&c=3", 4096, path, query);
  ASSERT_EQ(r.verdict, TargetVerdict::Ok);
  EXPECT_EQ(r.fragments, 4u);
  r = decode_target("/q?z", 4096, path, query);
  ASSERT_EQ(r.verdict, TargetVerdict::Ok);
  EXPECT_EQ(path, "/q");
  ASSERT_EQ(query.size(), 1u);
  EXPECT_EQ(query[0].first, "z");
  EXPECT_EQ(query[0].second, "");
  EXPECT_EQ(r.fragments, 2u);
}

}  // namespace
}  // namespace daheim::transport::http1
