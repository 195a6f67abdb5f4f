// Session: the v4 heartbeat (server pings, client pongs) on the fake clock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engineio/session.hpp"
#include "engineio_fakes.hpp"

namespace daheim::engineio {
namespace {

using Strings = std::vector<std::string>;
using Reasons = std::vector<CloseReason>;

TEST_F(SessionTest, PingIsQueuedExactlyAtPingInterval) {
  start_websocket();
  advance(299);
  EXPECT_FALSE(session->has_frames());
  int before = observer.calls;
  advance(1);
  EXPECT_EQ(observer.calls, before + 1);
  EXPECT_EQ(observer.last, session.get());
  EXPECT_EQ(drain(), Strings{"2"});
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, PingAnswersTheHeldGet) {
  start_polling();
  hold_poll();
  advance(299);
  EXPECT_FALSE(session->poll_ready());
  advance(1);
  EXPECT_TRUE(session->poll_ready());
  EXPECT_EQ(session->end_poll(), "2");
}

TEST_F(SessionTest, PingWaitsInTheQueueForTheNextGet) {
  start_polling();
  advance(300);
  EXPECT_TRUE(send_text("after"));
  EXPECT_EQ(poll(),
            "2\x1e"
            "4after");
}

TEST_F(SessionTest, PongRestartsTheIntervalFromThePongTime) {
  start_websocket();
  advance(300);
  EXPECT_EQ(drain(), Strings{"2"});
  advance(150);  // t=450
  session->on_ws_text("3");
  advance(299);  // t=749: the old timeout (500) has not fired
  EXPECT_TRUE(session->open());
  EXPECT_FALSE(session->has_frames());
  advance(1);  // t=750 = pong time + pingInterval
  EXPECT_EQ(drain(), Strings{"2"});
  EXPECT_TRUE(session->open());
  EXPECT_TRUE(log.closes.empty());
}

TEST_F(SessionTest, ImmediatePongRestartsTheInterval) {
  start_websocket();
  advance(300);
  drain();
  session->on_ws_text("3");  // t=300
  advance(299);
  EXPECT_FALSE(session->has_frames());
  advance(1);  // t=600
  EXPECT_EQ(drain(), Strings{"2"});
}

TEST_F(SessionTest, NoPongClosesWithPingTimeoutAtIntervalPlusTimeout) {
  start_websocket();
  advance(300);
  EXPECT_EQ(drain(), Strings{"2"});
  advance(199);  // t=499
  EXPECT_TRUE(session->open());
  EXPECT_TRUE(log.closes.empty());
  int before = observer.calls;
  advance(1);  // t=500
  EXPECT_TRUE(session->closed());
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
  EXPECT_GT(observer.calls, before);
  // Nothing more fires afterwards.
  advance(10000);
  EXPECT_EQ(log.closes.size(), 1u);
  EXPECT_FALSE(session->has_frames());
}

TEST_F(SessionTest, PingTimeoutOnPollingAnswersTheHeldGetWithClose) {
  // The conformance probe: a session that never pongs is gone at 500 ms.
  start_polling();
  hold_poll();
  advance(300);
  EXPECT_EQ(session->end_poll(), "2");
  hold_poll();
  advance(199);
  EXPECT_FALSE(session->poll_ready());
  EXPECT_TRUE(session->open());
  advance(1);
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
  EXPECT_TRUE(session->poll_ready());
  EXPECT_FALSE(session->finished());
  EXPECT_EQ(session->end_poll(), "1");
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, PingTimeoutWithoutAnyGetFinishesTheSession) {
  start_polling();
  advance(499);
  EXPECT_TRUE(session->open());
  advance(1);
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
}

TEST_F(SessionTest, ThreePingsOverPollingWithPongPosts) {
  start_polling();
  for (int i = 0; i < 3; ++i) {
    hold_poll();
    advance(299);
    ASSERT_FALSE(session->poll_ready()) << i;
    advance(1);
    ASSERT_TRUE(session->poll_ready()) << i;
    EXPECT_EQ(session->end_poll(), "2") << i;
    advance(20);
    EXPECT_TRUE(post("3")) << i;
  }
  EXPECT_TRUE(session->open());
  EXPECT_TRUE(log.closes.empty());
  // Next ping 300 ms after the last pong.
  hold_poll();
  advance(299);
  EXPECT_FALSE(session->poll_ready());
  advance(1);
  EXPECT_EQ(session->end_poll(), "2");
}

TEST_F(SessionTest, PongWithoutPingIsIgnored) {
  start_websocket();
  advance(100);
  session->on_ws_text("3");  // must not move the next ping to t=400
  advance(200);              // t=300
  EXPECT_EQ(drain(), Strings{"2"});
  advance(200);  // t=500: the unsolicited pong did not count
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
}

TEST_F(SessionTest, SecondPongDoesNotRestartTheIntervalAgain) {
  start_websocket();
  advance(300);
  drain();
  session->on_ws_text("3");  // t=300, next ping at 600
  advance(100);
  session->on_ws_text("3");  // t=400: ignored
  advance(200);              // t=600
  EXPECT_EQ(drain(), Strings{"2"});
}

TEST_F(SessionTest, PongDataIsIgnored) {
  start_websocket();
  advance(300);
  drain();
  session->on_ws_text("3probe");
  advance(250);
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, ClientPingOnWebSocketIsTransportError) {
  start_websocket();
  session->on_ws_text("2");
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportError});
  EXPECT_FALSE(session->has_frames());  // no pong
}

TEST_F(SessionTest, ClientPingOnPollingIsTransportError) {
  start_polling();
  hold_poll();
  EXPECT_TRUE(post("2"));
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportError});
  EXPECT_EQ(session->end_poll(), "1");
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, ClientProbePingOnThePrimaryWebSocketIsTransportError) {
  start_websocket();
  session->on_ws_text("2probe");
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportError});
}

TEST_F(SessionTest, NoPingAfterClose) {
  start_websocket();
  session->close(CloseReason::TransportError);
  EXPECT_EQ(clock.pending(), 0u);
  advance(10000);
  EXPECT_FALSE(session->has_frames());
  EXPECT_EQ(log.closes.size(), 1u);
}

}  // namespace
}  // namespace daheim::engineio
