// The wire pieces of forwarding (issue 16): the owner's HTTP answer as the
// forwarding node reads it, the carried WebSocket's client frames and the
// server frames it decodes, the internal addresses.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "transport/http_forward.hpp"
#include "transport/ws_upstream.hpp"

namespace daheim::transport {
namespace {

TEST(ForwardedResponse, ReadsStatusBodyAndEndToEndHeaders) {
  std::string wire =
      "HTTP/1.1 200 OK\r\ncontent-type: text/plain; charset=UTF-8\r\ncontent-length: 6\r\n"
      "access-control-allow-origin: *\r\ncache-control: no-store\r\nconnection: close\r\n\r\n"
      "4hello";
  ForwardedResponse r;
  bool error = true;
  // Every prefix is incomplete, not an error.
  for (std::size_t n = 0; n < wire.size(); ++n) {
    EXPECT_FALSE(parse_forwarded_response(std::string_view(wire).substr(0, n), false, r, error));
    EXPECT_FALSE(error) << n;
  }
  ASSERT_TRUE(parse_forwarded_response(wire, false, r, error));
  EXPECT_EQ(r.status, 200u);
  EXPECT_EQ(r.content_type, "text/plain; charset=UTF-8");
  EXPECT_EQ(r.body, "4hello");
  std::vector<engineio::Header> want = {{"access-control-allow-origin", "*"},
                                        {"cache-control", "no-store"}};
  EXPECT_EQ(r.headers, want);
  EXPECT_FALSE(r.keep_alive);  // the owner said close
  std::string kept = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";
  ASSERT_TRUE(parse_forwarded_response(kept, false, r, error));
  EXPECT_TRUE(r.keep_alive);
  ASSERT_TRUE(
      parse_forwarded_response("HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok", false, r, error));
  EXPECT_FALSE(r.keep_alive);
}

TEST(ForwardedResponse, ErrorsAndCutAnswers) {
  ForwardedResponse r;
  bool error = false;
  std::string unknown =
      "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: 41\r\n\r\n"
      R"({"code":1,"message":"Session ID unknown"})";
  ASSERT_TRUE(parse_forwarded_response(unknown, false, r, error));
  EXPECT_EQ(r.status, 400u);
  EXPECT_EQ(r.body, R"({"code":1,"message":"Session ID unknown"})");
  // Cut before the body's end: an error once the connection closed.
  EXPECT_FALSE(parse_forwarded_response(unknown.substr(0, unknown.size() - 1), true, r, error));
  EXPECT_TRUE(error);
  // No length: the body runs to the end of the connection.
  ASSERT_TRUE(parse_forwarded_response("HTTP/1.1 200 OK\r\n\r\nok", true, r, error));
  EXPECT_EQ(r.body, "ok");
  EXPECT_FALSE(parse_forwarded_response("SMTP ready\r\n\r\n", false, r, error));
  EXPECT_TRUE(error);
  EXPECT_FALSE(
      parse_forwarded_response("HTTP/1.1 200 OK\r\ncontent-length: x\r\n\r\n", false, r, error));
  EXPECT_TRUE(error);
}

TEST(WsUpstreamFrames, ClientFramesAreMasked) {
  const uint8_t mask[4] = {1, 2, 3, 4};
  std::string out;
  encode_client_frame(out, 1, "2probe", mask);
  EXPECT_EQ(out, std::string("\x81\x86\x01\x02\x03\x04", 6) + std::string("3rqkcg", 6));
  out.clear();
  std::string big(300, 'a');
  encode_client_frame(out, 2, big, mask);
  EXPECT_EQ(out.substr(0, 4), std::string("\x82\xfe\x01\x2c", 4));
  EXPECT_EQ(out.size(), 4 + 4 + 300u);
}

TEST(WsUpstreamFrames, ServerFramesFragmentsAndControl) {
  WsFrameReader reader(16);
  std::vector<WsFrameReader::Message> got;
  // "3pr" + continuation "obe" (a fragmented text message), a ping between.
  std::string wire = std::string(
                         "\x01\x03"
                         "3pr",
                         5) +
                     std::string("\x89\x00", 2) +
                     std::string(
                         "\x80\x03"
                         "obe",
                         5) +
                     std::string("\x82\x02\x01\x02", 4);
  for (char c : wire) ASSERT_TRUE(reader.feed(std::string_view(&c, 1), got));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].opcode, 9);
  EXPECT_EQ(got[1].opcode, 1);
  EXPECT_EQ(got[1].payload, "3probe");
  EXPECT_EQ(got[2].opcode, 2);
  EXPECT_EQ(got[2].payload, std::string("\x01\x02", 2));
  // A masked frame from a server, a message over the bound.
  WsFrameReader strict(16);
  EXPECT_FALSE(strict.feed(std::string("\x81\x81\0\0\0\0a", 7), got));
  WsFrameReader small(4);
  EXPECT_FALSE(small.feed(std::string("\x81\x7e\x01\x00", 4), got));
}

}  // namespace
}  // namespace daheim::transport
