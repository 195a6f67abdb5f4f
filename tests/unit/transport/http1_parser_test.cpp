// The in-place HTTP/1.1 request parser of our own long-polling handling
// (core/transport/http1_parser) and its answers (http1_response), with exact
// bytes: every field is a view into the bytes given.
#include "transport/http1_parser.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "transport/http1_response.hpp"

namespace daheim::transport::http1 {
namespace {

const std::string kGet =
    "GET /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\n"
    "Host: 127.0.0.1:3000\r\n"
    "Origin:  http://a.example \r\n"
    "\r\n";
const std::string kPost =
    "POST /socket.io/?EIO=4&transport=polling&sid=abc HTTP/1.1\r\n"
    "Host: x\r\n"
    "Content-Type: text/plain;charset=UTF-8\r\n"
    "Content-Length: 7\r\n"
    "\r\n"
    "4hello!";

ParseError parse_all(const std::string& bytes, Request& out) {
  std::size_t from = 0;
  std::size_t end = find_head_end(bytes, from);
  if (end == 0) return ParseError::HeadTooLarge;  // "incomplete" for these tests
  return parse_head(bytes, end, out);
}

TEST(Http1Parser, GetRequestFieldsAreViewsIntoTheBuffer) {
  Request r;
  ASSERT_EQ(parse_all(kGet, r), ParseError::None);
  EXPECT_EQ(r.method, engineio::Method::Get);
  EXPECT_EQ(r.method_name, "GET");
  EXPECT_EQ(r.target, "/socket.io/?EIO=4&transport=polling&sid=abc");
  EXPECT_EQ(r.path, "/socket.io/");
  EXPECT_EQ(r.query, "EIO=4&transport=polling&sid=abc");
  EXPECT_EQ(r.minor, 1);
  EXPECT_EQ(r.head_size, kGet.size());
  EXPECT_FALSE(r.has_length);
  EXPECT_FALSE(r.close);
  EXPECT_FALSE(r.upgrade);
  ASSERT_EQ(r.header_count, 2u);
  ASSERT_NE(r.header("origin"), nullptr);
  EXPECT_EQ(*r.header("origin"), "http://a.example");
  EXPECT_EQ(*r.header("host"), "127.0.0.1:3000");
  EXPECT_EQ(r.header("content-type"), nullptr);
  EXPECT_GE(r.path.data(), kGet.data());
  EXPECT_LT(r.path.data(), kGet.data() + kGet.size());
}

TEST(Http1Parser, PostBodyFollowsTheHead) {
  Request r;
  ASSERT_EQ(parse_all(kPost, r), ParseError::None);
  EXPECT_EQ(r.method, engineio::Method::Post);
  EXPECT_TRUE(r.has_length);
  EXPECT_EQ(r.content_length, 7u);
  EXPECT_EQ(kPost.substr(r.head_size, r.content_length), "4hello!");
}

// Every split of a request into two reads: incomplete until the empty line
// has come, then the same request, whichever read brought what.
TEST(Http1Parser, SplitAtEveryByteBoundary) {
  for (const std::string& whole : {kGet, kPost}) {
    std::size_t head = whole.find("\r\n\r\n") + 4;
    for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
      std::string buf = whole.substr(0, cut);
      std::size_t from = 0;
      std::size_t end = find_head_end(buf, from);
      if (cut < head) {
        EXPECT_EQ(end, 0u) << cut;
        buf += whole.substr(cut);
        end = find_head_end(buf, from);
      }
      ASSERT_EQ(end, head) << cut;
      Request r;
      ASSERT_EQ(parse_head(buf, end, r), ParseError::None) << cut;
      EXPECT_EQ(r.target, "/socket.io/?EIO=4&transport=polling&sid=abc");
    }
  }
}

// Byte by byte: the search goes on from where it stopped.
TEST(Http1Parser, OneByteAtATime) {
  std::string buf;
  std::size_t from = 0;
  std::size_t end = 0;
  for (char c : kGet) {
    ASSERT_EQ(end, 0u);
    buf += c;
    end = find_head_end(buf, from);
  }
  EXPECT_EQ(end, kGet.size());
}

TEST(Http1Parser, PipelinedRequestsOneAfterAnother) {
  std::string buf = kPost + kGet + kPost;
  std::vector<std::string> seen;
  std::size_t at = 0;
  while (at < buf.size()) {
    std::string_view rest(buf.data() + at, buf.size() - at);
    std::size_t from = 0;
    std::size_t end = find_head_end(rest, from);
    ASSERT_NE(end, 0u);
    Request r;
    ASSERT_EQ(parse_head(rest, end, r), ParseError::None);
    seen.emplace_back(r.method_name);
    at += end + r.content_length;
  }
  EXPECT_EQ(seen, (std::vector<std::string>{"POST", "GET", "POST"}));
}

TEST(Http1Parser, ConnectionHeaderAndVersion) {
  Request r;
  ASSERT_EQ(parse_all("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", r),
            ParseError::None);
  EXPECT_TRUE(r.close);
  EXPECT_TRUE(r.close_asked);
  ASSERT_EQ(parse_all("GET / HTTP/1.0\r\n\r\n", r), ParseError::None);
  EXPECT_EQ(r.minor, 0);
  EXPECT_TRUE(r.close);  // HTTP/1.0 ends after the answer
  EXPECT_FALSE(r.close_asked);
  ASSERT_EQ(parse_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", r), ParseError::None);
  EXPECT_FALSE(r.close);
  EXPECT_TRUE(r.keep_alive_asked);
  // lws keeps an HTTP/1.0 connection only for exactly "keep-alive".
  ASSERT_EQ(parse_all("GET / HTTP/1.0\r\nConnection: Keep-Alive, x\r\n\r\n", r), ParseError::None);
  EXPECT_TRUE(r.close);
  ASSERT_EQ(parse_all("GET / HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n", r),
            ParseError::None);
  EXPECT_TRUE(r.upgrade);
  ASSERT_EQ(parse_all("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", r),
            ParseError::None);
  EXPECT_TRUE(r.transfer_encoding);
}

TEST(Http1Parser, ContentLength) {
  Request r;
  ASSERT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Length: 5\r\ncontent-length: 5\r\n\r\n", r),
            ParseError::None);
  EXPECT_EQ(r.content_length, 5u);
  EXPECT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n", r),
            ParseError::BadContentLength);
  EXPECT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", r),
            ParseError::BadContentLength);
  EXPECT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n", r),
            ParseError::BadContentLength);
  EXPECT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", r),
            ParseError::BadContentLength);
  EXPECT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999\r\n\r\n", r),
            ParseError::BadContentLength);
  ASSERT_EQ(parse_all("POST / HTTP/1.1\r\nContent-Length: 1099511627776\r\n\r\n", r),
            ParseError::None);  // 2^40: the caller's limit answers it
}

TEST(Http1Parser, BadInputSaysWhy) {
  struct Case {
    const char* bytes;
    ParseError error;
  };
  const Case cases[] = {
      {"\r\nGET / HTTP/1.1\r\n\r\n", ParseError::BadRequestLine},
      {"GET  / HTTP/1.1\r\n\r\n", ParseError::BadRequestLine},
      {"GET / HTTP/1.1 \r\n\r\n", ParseError::BadVersion},
      {"GET /\r\n\r\n", ParseError::BadRequestLine},
      {"GET x HTTP/1.1\r\n\r\n", ParseError::BadRequestLine},
      {"G(T / HTTP/1.1\r\n\r\n", ParseError::BadRequestLine},
      {"GET / HTTP/2.0\r\n\r\n", ParseError::BadVersion},
      {"GET / HTTP/1.2\r\n\r\n", ParseError::BadVersion},
      {"GET / http/1.1\r\n\r\n", ParseError::BadVersion},
      {"GET /a\x01 HTTP/1.1\r\n\r\n", ParseError::BadRequestLine},
      {"GET / HTTP/1.1\nHost: x\n\n", ParseError::BadRequestLine},
      {"GET / HTTP/1.1\r\nHost x\r\n\r\n", ParseError::BadHeader},
      {"GET / HTTP/1.1\r\nHost : x\r\n\r\n", ParseError::BadHeader},
      {"GET / HTTP/1.1\r\n: x\r\n\r\n", ParseError::BadHeader},
      {"GET / HTTP/1.1\r\nA: b\r\n c\r\n\r\n", ParseError::BadHeader},
      {"GET / HTTP/1.1\r\nA: b\rc\r\n\r\n", ParseError::BadHeader},
      {"GET / HTTP/1.1\r\nA: b\nB: c\r\n\r\n", ParseError::BadHeader},
  };
  for (const Case& c : cases) {
    Request r;
    EXPECT_EQ(parse_all(c.bytes, r), c.error) << c.bytes;
  }
  Request r;
  std::string nul("GET / HTTP/1.1\r\nA: b\0c\r\n\r\n", 26);
  EXPECT_EQ(parse_all(nul, r), ParseError::BadHeader);
  EXPECT_EQ(to_string(ParseError::BadContentLength), "bad content-length");
}

TEST(Http1Parser, HeaderCountLimit) {
  std::string head = "GET / HTTP/1.1\r\n";
  for (std::size_t i = 0; i < Request::kMaxHeaders; ++i)
    head += "X-" + std::to_string(i) + ": v\r\n";
  Request r;
  ASSERT_EQ(parse_all(head + "\r\n", r), ParseError::None);
  EXPECT_EQ(r.header_count, Request::kMaxHeaders);
  EXPECT_EQ(parse_all(head + "X-last: v\r\n\r\n", r), ParseError::TooManyHeaders);
}

TEST(Http1Parser, Tokens) {
  EXPECT_TRUE(has_token("keep-alive, Upgrade", "upgrade"));
  EXPECT_TRUE(has_token(" close ", "close"));
  EXPECT_FALSE(has_token("closed", "close"));
  EXPECT_FALSE(has_token("", "close"));
  EXPECT_TRUE(equals_lower("Content-LENGTH", "content-length"));
  EXPECT_FALSE(equals_lower("Content-Lengt", "content-length"));
}

// Byte for byte what send_response has lws write (tests/e2e/engineio-raw
// compares both paths on the wire).
TEST(Http1Response, BytesAsLwsWritesThem) {
  std::string out;
  format_response(out, 1, 200, "text/plain; charset=UTF-8", "4hi",
                  {{"access-control-allow-origin", "*"}, {"cache-control", "no-store"}}, false);
  EXPECT_EQ(out,
            "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=UTF-8\r\ncontent-length: 3\r\n"
            "access-control-allow-origin: *\r\ncache-control: no-store\r\n\r\n4hi");
  format_response(out, 1, 400, {}, {}, {}, true);
  EXPECT_EQ(out, "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
  format_response(out, 0, 200, "text/html", "ok", {}, false);
  EXPECT_EQ(out, "HTTP/1.0 200 OK\r\ncontent-type: text/html\r\ncontent-length: 2\r\n\r\nok");
}

}  // namespace
}  // namespace daheim::transport::http1
