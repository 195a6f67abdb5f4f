// Session in Engine.IO 3 (EIO=3, allowEIO3): the client pings and the server
// answers, v3 polling payloads both ways, binary WebSocket frames with their
// type byte. Exact bytes, fake clock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engineio/session.hpp"
#include "engineio_fakes.hpp"

namespace daheim::engineio {
namespace {

using namespace std::string_literals;
using Strings = std::vector<std::string>;

class SessionV3Test : public SessionTest {
 protected:
  Session& start_v3(TransportKind kind, std::vector<Header> extra = {}) {
    HeaderList query{{"EIO", "3"},
                     {"transport", kind == TransportKind::Polling ? "polling" : "websocket"}};
    for (auto& [name, value] : extra) query.add(name, value);
    start(kind, Handshake("", "", {}, query));
    EXPECT_TRUE(session->v3());
    return *session;
  }
};

TEST_F(SessionV3Test, TheOpenPacketIsLengthPrefixed) {
  start_v3(TransportKind::Polling);
  std::string open =
      R"(0{"sid":"abcdefghijklmnopqrst","upgrades":["websocket"],"pingInterval":300,)"
      R"("pingTimeout":200,"maxPayload":1000000})";
  EXPECT_EQ(poll(), std::to_string(open.size()) + ":" + open);
  EXPECT_FALSE(session->poll_body_binary());
}

TEST_F(SessionV3Test, TheClientPingsAndTheServerAnswers) {
  start_v3(TransportKind::WebSocket);
  EXPECT_EQ(describe(session->pop_frame())[0], '0');
  advance(499);  // the server never pings
  EXPECT_FALSE(session->has_frames());
  session->on_ws_text("2");
  EXPECT_EQ(drain(), Strings{"3"});
  advance(499);  // pingInterval + pingTimeout after the last ping
  EXPECT_TRUE(session->open());
  session->on_ws_text("2");
  EXPECT_EQ(drain(), Strings{"3"});
  advance(500);
  EXPECT_FALSE(session->open());
  EXPECT_EQ(log.closes, std::vector<CloseReason>{CloseReason::PingTimeout});
}

TEST_F(SessionV3Test, APongFromTheClientDoesNotKeepItAlive) {
  start_v3(TransportKind::WebSocket);
  drain();
  advance(400);
  session->on_ws_text("3");
  advance(100);
  EXPECT_FALSE(session->open());
}

TEST_F(SessionV3Test, PollingPayloadsAreLengthPrefixedBothWays) {
  start_v3(TransportKind::Polling);
  poll();
  EXPECT_TRUE(
      post("1:2"
           "5:42[1]"
           "2:4\xe2\x82\xac"));
  EXPECT_EQ(log.events, (Strings{"text:2[1]", "text:\xe2\x82\xac"}));
  EXPECT_TRUE(send_text("\xf0\x9f\x98\x80"));
  EXPECT_EQ(poll(),
            "1:3"
            "3:4\xf0\x9f\x98\x80");
  hold_poll();  // nothing queued: a held GET
  advance(499);
  EXPECT_FALSE(session->poll_ready());
  advance(1);  // 500 ms after the client's ping: closed
  EXPECT_TRUE(session->poll_ready());
  EXPECT_EQ(session->end_poll(), "1:1");
}

TEST_F(SessionV3Test, NothingToSayIsANoopItem) {
  start_v3(TransportKind::Polling);
  poll();
  hold_poll();
  session->close(CloseReason::ForcedClose);
  EXPECT_EQ(session->end_poll(), "1:1");
}

TEST_F(SessionV3Test, BinaryGoesAsABinaryPayloadToXhr2Clients) {
  start_v3(TransportKind::Polling);
  poll();
  ASSERT_TRUE(send_text("451-[\"b\",{\"_placeholder\":true,\"num\":0}]"));
  ASSERT_TRUE(session->send(make_binary_frame("\x01\x02"s)));
  std::string body = poll();
  EXPECT_TRUE(session->poll_body_binary());
  std::string text = "4451-[\"b\",{\"_placeholder\":true,\"num\":0}]";
  EXPECT_EQ(body, "\x00\x04\x00\xff"s + text + "\x01\x03\xff\x04\x01\x02"s);
  // A binary POST (application/octet-stream) reaches the handler.
  EXPECT_TRUE(session->begin_post());
  EXPECT_TRUE(session->on_post_body("\x01\x03\xff\x04\xfe\xff"s, true));
  session->end_post();
  EXPECT_EQ(log.events.back(), "binary:feff");
}

TEST_F(SessionV3Test, Base64ClientsGetB4Items) {
  start_v3(TransportKind::Polling, {{"b64", "1"}});
  poll();
  ASSERT_TRUE(session->send(make_binary_frame("\x01\x02\x03"s)));
  EXPECT_EQ(poll(), "6:b4AQID");
  EXPECT_FALSE(session->poll_body_binary());
  EXPECT_TRUE(post("6:b4AQID"));
  EXPECT_EQ(log.events.back(), "binary:010203");
}

TEST_F(SessionV3Test, WebSocketBinaryFramesCarryTheTypeByte) {
  start_v3(TransportKind::WebSocket);
  drain();
  ASSERT_TRUE(session->send(make_binary_frame("\x01\x02"s)));
  EXPECT_EQ(drain(), Strings{"bin:040102"});
  session->on_ws_binary("\x04\xaa"s);
  EXPECT_EQ(log.events.back(), "binary:aa");
  session->on_ws_binary("\x02\xaa"s);  // not a message: a parse error
  EXPECT_EQ(log.closes, std::vector<CloseReason>{CloseReason::ParseError});
}

TEST_F(SessionV3Test, BadV3PayloadsCloseTheSession) {
  start_v3(TransportKind::Polling);
  poll();
  EXPECT_FALSE(post("9:2"));
  EXPECT_EQ(log.closes, std::vector<CloseReason>{CloseReason::ParseError});
}

TEST_F(SessionV3Test, V4SessionsStillRefuseClientPings) {
  start_websocket();
  session->on_ws_text("2");
  EXPECT_EQ(log.closes, std::vector<CloseReason>{CloseReason::TransportError});
}

}  // namespace
}  // namespace daheim::engineio
