// Session: the heartbeat when the loop runs late (FakeTimerQueue::stall).
// A request that finds its session's heartbeat overdue runs it first
// (catch_up_heartbeat), and the pong is due pingTimeout after the ping was
// due, however late the timer ran: the session ends when an on-time loop had
// ended it (conformance options: pingInterval 300, pingTimeout 200).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engineio/session.hpp"
#include "engineio_fakes.hpp"

namespace daheim::engineio {
namespace {

using Strings = std::vector<std::string>;
using Reasons = std::vector<CloseReason>;

TEST_F(SessionTest, NothingDueNothingCaughtUp) {
  start_polling();
  clock.stall(Millis(299));
  int before = observer.calls;
  session->catch_up_heartbeat();
  EXPECT_EQ(observer.calls, before);
  hold_poll();  // no ping yet: the GET is held
  advance(1);   // t=300: the timer itself
  EXPECT_EQ(session->end_poll(), "2");
}

// The official suite's "closes the session upon ping timeout": no GET for
// pingInterval + pingTimeout, then one.
TEST_F(SessionTest, RequestAtTheDeadlineFindsTheSessionClosed) {
  start_polling();
  clock.stall(Millis(500));  // neither the ping (300) nor the timeout (500) ran
  session->catch_up_heartbeat();
  EXPECT_TRUE(session->closed());
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
  EXPECT_EQ(clock.pending(), 0u);
}

TEST_F(SessionTest, RequestBeforeTheDeadlineGetsTheOverduePing) {
  start_polling();
  clock.stall(Millis(499));
  session->catch_up_heartbeat();
  EXPECT_TRUE(session->open());
  EXPECT_EQ(poll(), "2");
  clock.stall(Millis(1));  // t=500: the pong deadline, overdue too
  session->catch_up_heartbeat();
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
}

TEST_F(SessionTest, OverduePongTimeoutClosesBeforeTheRequest) {
  start_polling();
  advance(300);  // the ping on time
  clock.stall(Millis(230));
  EXPECT_TRUE(session->open());  // its timer has not run
  session->catch_up_heartbeat();
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
  EXPECT_TRUE(session->finished());  // the ping was never fetched: dropped
}

TEST_F(SessionTest, LatePingKeepsThePongDeadline) {
  start_websocket();
  clock.stall(Millis(340));
  advance(0);  // the ping timer runs 40 ms late
  EXPECT_EQ(drain(), Strings{"2"});
  advance(159);  // t=499
  EXPECT_TRUE(session->open());
  advance(1);  // t=500 = ping due + pingTimeout
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
}

TEST_F(SessionTest, PingLaterThanTheWholeWindowCloses) {
  start_websocket();
  clock.stall(Millis(520));
  advance(0);
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
  EXPECT_EQ(drain(), Strings{});  // no ping that could not be answered in time
}

TEST_F(SessionTest, PongInTimeIsNotUndoneByALateCheck) {
  start_polling();
  advance(300);
  EXPECT_EQ(poll(), "2");
  advance(100);
  EXPECT_TRUE(post("3"));  // t=400: next ping at 700
  clock.stall(Millis(299));
  session->catch_up_heartbeat();
  EXPECT_TRUE(session->open());
  hold_poll();
  clock.stall(Millis(1));  // t=700
  session->catch_up_heartbeat();
  EXPECT_TRUE(session->poll_ready());
  EXPECT_EQ(session->end_poll(), "2");
  EXPECT_TRUE(log.closes.empty());
}

TEST_F(SessionTest, ClosedSessionHasNothingToCatchUp) {
  start_polling();
  session->close(CloseReason::ServerShuttingDown);
  clock.stall(Millis(10000));
  session->catch_up_heartbeat();
  EXPECT_EQ(log.closes, Reasons{CloseReason::ServerShuttingDown});
}

TEST_F(SessionTest, Eio3SessionWithoutClientPingIsClosedOnRequest) {
  HeaderList query{{"EIO", "3"}, {"transport", "polling"}};
  start(TransportKind::Polling, Handshake("", "", {}, query));
  ASSERT_TRUE(session->v3());
  clock.stall(Millis(499));
  session->catch_up_heartbeat();
  EXPECT_TRUE(session->open());
  clock.stall(Millis(1));
  session->catch_up_heartbeat();
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
}

}  // namespace
}  // namespace daheim::engineio
