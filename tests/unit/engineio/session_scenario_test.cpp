// Whole sessions driven through a transport-like observer that answers held
// GETs, writes probe replies and drains WebSocket frames as soon as it is
// notified, the way the libwebsockets transport does. The assertions are on
// the complete wire log.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engineio/session.hpp"
#include "engineio_fakes.hpp"

namespace daheim::engineio {
namespace {

using Strings = std::vector<std::string>;
using Reasons = std::vector<CloseReason>;

class ScenarioTest : public SessionTest {
 protected:
  void SetUp() override {
    observer.hook = [this](Session& s) { service(s); };
  }

  // What the transport does on on_session_activity.
  void service(Session& s) {
    if (s.poll_ready()) wire.push_back("GET< " + s.end_poll());
    if (FramePtr probe = s.take_probe_frame()) wire.push_back("PROBE< " + describe(probe));
    if (s.transport() == TransportKind::WebSocket && ws_writable) {
      while (FramePtr f = s.pop_frame()) wire.push_back("WS< " + describe(f));
    }
  }

  void client_get() {
    wire.push_back("GET>");
    if (session->begin_poll() == Session::PollStart::Answer)
      wire.push_back("GET< " + session->end_poll());
  }

  void client_post(std::string_view body) {
    wire.push_back("POST> " + std::string(body));
    ASSERT_TRUE(session->begin_post());
    wire.push_back(session->on_post_body(body) ? "POST< ok" : "POST< 400");
    session->end_post();
  }

  void probe(std::string_view text) {
    wire.push_back("PROBE> " + std::string(text));
    Session::ProbeResult r = session->on_probe_text(text);
    if (r == Session::ProbeResult::Upgraded) {
      ws_writable = true;
      service(*session);
    }
    if (r == Session::ProbeResult::Refused) wire.push_back("PROBE refused");
  }

  void ws(std::string_view text) {
    wire.push_back("WS> " + std::string(text));
    session->on_ws_text(text);
  }

  bool ws_writable = false;
  Strings wire;
};

const std::string kOpen =
    R"(0{"sid":"abcdefghijklmnopqrst","upgrades":["websocket"],"pingInterval":300,)"
    R"("pingTimeout":200,"maxPayload":1000000})";

TEST_F(ScenarioTest, PollingEchoHeartbeatAndClientClose) {
  log.on_message = [this](std::string_view t) {
    session->send(make_text_frame(PacketType::Message, t));
  };
  start(TransportKind::Polling);
  client_get();
  client_get();  // held
  client_post(
      "4test1\x1e"
      "4test2");
  client_get();  // the second echo was queued meanwhile
  advance(100);
  client_get();  // held until the ping
  advance(199);
  advance(1);  // t=300
  client_post("3");
  client_get();
  client_post("1");
  EXPECT_EQ(wire, (Strings{
                      "GET>",
                      "GET< " + kOpen,
                      "GET>",
                      "POST> 4test1\x1e"
                      "4test2",
                      "GET< 4test1",  // answered on the first send
                      "POST< ok",
                      "GET>",
                      "GET< 4test2",
                      "GET>",
                      "GET< 2",
                      "POST> 3",
                      "POST< ok",
                      "GET>",
                      "POST> 1",
                      "GET< 6",
                      "POST< ok",
                  }));
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportClose});
}

TEST_F(ScenarioTest, UpgradeToWebSocket) {
  log.on_message = [this](std::string_view t) {
    session->send(make_text_frame(PacketType::Message, t));
  };
  start(TransportKind::Polling);
  client_get();
  client_get();  // held
  ASSERT_TRUE(session->begin_upgrade());
  probe("2probe");
  probe("5");
  ws("4hello");
  advance(300);
  ws("3");
  session->close(CloseReason::ForcedClose);
  EXPECT_EQ(wire, (Strings{
                      "GET>",
                      "GET< " + kOpen,
                      "GET>",
                      "PROBE> 2probe",
                      "GET< 6",
                      "PROBE< 3probe",
                      "PROBE> 5",
                      "WS> 4hello",
                      "WS< 4hello",
                      "WS< 2",
                      "WS> 3",
                  }));
  EXPECT_EQ(log.closes, Reasons{CloseReason::ForcedClose});
  EXPECT_EQ(session->transport(), TransportKind::WebSocket);
}

TEST_F(ScenarioTest, NeverPongingPollingClientIsGoneAt500Ms) {
  start(TransportKind::Polling);
  client_get();
  client_get();
  advance(300);
  client_get();
  advance(199);
  EXPECT_TRUE(session->open());
  advance(1);
  EXPECT_EQ(wire, (Strings{"GET>", "GET< " + kOpen, "GET>", "GET< 2", "GET>", "GET< 1"}));
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
}

TEST_F(ScenarioTest, ConcurrentGetsFirstGetsCloseSecondIsRefused) {
  start(TransportKind::Polling);
  client_get();
  client_get();  // held
  wire.push_back("GET>");
  EXPECT_EQ(session->begin_poll(), Session::PollStart::Overlap);
  EXPECT_EQ(wire, (Strings{"GET>", "GET< " + kOpen, "GET>", "GET>", "GET< 1"}));
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportError});
}

TEST_F(ScenarioTest, BinaryEchoOverPolling) {
  log.on_message = [this](std::string_view t) {
    session->send(make_text_frame(PacketType::Message, t));
  };
  log.on_binary = [this](std::string_view d) { session->send(make_binary_frame(d)); };
  start(TransportKind::Polling);
  client_get();
  client_post(
      "4hello\x1e"
      "bAQIDBA==");
  client_get();
  EXPECT_EQ(wire, (Strings{"GET>", "GET< " + kOpen,
                           "POST> 4hello\x1e"
                           "bAQIDBA==",
                           "POST< ok", "GET>",
                           "GET< 4hello\x1e"
                           "bAQIDBA=="}));
}

}  // namespace
}  // namespace daheim::engineio
