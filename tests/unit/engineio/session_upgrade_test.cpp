// Session: upgrade from polling to WebSocket (probe, switch, refusal, timeout).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engineio/session.hpp"
#include "engineio_fakes.hpp"

namespace daheim::engineio {
namespace {

using Strings = std::vector<std::string>;
using Reasons = std::vector<CloseReason>;
using Probe = Session::ProbeResult;

TEST_F(SessionTest, FullUpgrade) {
  start_polling();
  hold_poll();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_TRUE(session->probe_active());
  EXPECT_FALSE(session->poll_ready());  // attaching alone does not release the GET
  EXPECT_EQ(session->take_probe_frame(), nullptr);

  int before = observer.calls;
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_GT(observer.calls, before);
  EXPECT_TRUE(session->probe_active());
  FramePtr reply = session->take_probe_frame();
  ASSERT_TRUE(reply);
  EXPECT_FALSE(reply->binary);
  EXPECT_EQ(reply->body(), "3probe");
  EXPECT_EQ(session->take_probe_frame(), nullptr);  // taken once

  // The polling side is made idle: the held GET gets a noop.
  EXPECT_TRUE(session->poll_ready());
  EXPECT_EQ(session->end_poll(), "6");
  EXPECT_EQ(session->transport(), TransportKind::Polling);
  EXPECT_TRUE(session->open());

  before = observer.calls;
  EXPECT_EQ(session->on_probe_text("5"), Probe::Upgraded);
  EXPECT_GT(observer.calls, before);
  EXPECT_EQ(session->transport(), TransportKind::WebSocket);
  EXPECT_FALSE(session->probe_active());
  EXPECT_TRUE(session->open());
  EXPECT_TRUE(log.closes.empty());

  // From now on the session is a WebSocket session.
  EXPECT_TRUE(session->can_send_now());
  EXPECT_TRUE(send_text("hello"));
  EXPECT_EQ(drain(), Strings{"4hello"});
  session->on_ws_text("4from client");
  EXPECT_EQ(log.events, Strings{"text:from client"});
}

TEST_F(SessionTest, QueuedFramesMoveToTheWebSocketInOrder) {
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_EQ(describe(session->take_probe_frame()), "3probe");
  EXPECT_TRUE(send_text("one"));  // no GET is held: these wait
  EXPECT_TRUE(session->send(make_binary_frame(std::string("\x01\x02\x03\x04", 4))));
  EXPECT_TRUE(send_text("two"));
  EXPECT_EQ(session->on_probe_text("5"), Probe::Upgraded);
  EXPECT_TRUE(session->has_frames());
  EXPECT_EQ(session->buffered_bytes(), 4u + 4u + 4u);
  EXPECT_EQ(drain(), (Strings{"4one", "bin:01020304", "4two"}));
  EXPECT_EQ(session->buffered_bytes(), 0u);
}

TEST_F(SessionTest, GetDuringProbeTakesQueuedDataInsteadOfNoop) {
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_TRUE(send_text("data"));
  EXPECT_EQ(poll(), "4data");
  EXPECT_EQ(poll(), "6");  // probing: nothing queued, answer at once
}

TEST_F(SessionTest, HeartbeatContinuesAcrossTheUpgrade) {
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  advance(300);  // ping queued while the client is switching
  EXPECT_EQ(session->on_probe_text("5"), Probe::Upgraded);
  EXPECT_EQ(drain(), Strings{"2"});
  advance(100);
  session->on_ws_text("3");
  advance(299);
  EXPECT_TRUE(session->open());
  EXPECT_FALSE(session->has_frames());
  advance(1);
  EXPECT_EQ(drain(), Strings{"2"});
  advance(200);
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
}

TEST_F(SessionTest, NonProbePacketOnTheProbeIsRefused) {
  for (std::string bad : {"4hello", "2", "3probe", "2probex", "1", "abc", ""}) {
    log = HandlerLog{};
    start_polling();
    ASSERT_TRUE(session->begin_upgrade()) << bad;
    EXPECT_EQ(session->on_probe_text(bad), Probe::Refused) << "'" << bad << "'";
    EXPECT_FALSE(session->probe_active()) << bad;
    EXPECT_EQ(session->take_probe_frame(), nullptr);
    EXPECT_TRUE(session->open()) << bad;
    EXPECT_EQ(session->transport(), TransportKind::Polling);
    EXPECT_TRUE(log.events.empty()) << bad;
    // Still polling normally, and a new upgrade may start.
    EXPECT_TRUE(send_text("x"));
    EXPECT_EQ(poll(), "4x");
    EXPECT_TRUE(session->begin_upgrade()) << bad;
  }
}

TEST_F(SessionTest, GarbageAfterTheProbeIsRefused) {
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_EQ(session->on_probe_text("4hello"), Probe::Refused);
  EXPECT_FALSE(session->probe_active());
  EXPECT_EQ(session->take_probe_frame(), nullptr);  // the unsent reply is dropped
  EXPECT_EQ(session->on_probe_text("5"), Probe::Refused);
  EXPECT_EQ(session->transport(), TransportKind::Polling);
  EXPECT_TRUE(session->open());
  hold_poll();  // no longer probing: the GET is held again
  EXPECT_FALSE(session->poll_ready());
}

TEST_F(SessionTest, UpgradeTimeoutDropsTheProbe) {
  opts.ping_interval = Millis(25000);
  opts.ping_timeout = Millis(20000);
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  advance(9999);
  EXPECT_TRUE(session->probe_active());
  int before = observer.calls;
  advance(1);
  EXPECT_FALSE(session->probe_active());
  EXPECT_GT(observer.calls, before);
  EXPECT_EQ(session->take_probe_frame(), nullptr);
  EXPECT_TRUE(session->open());
  EXPECT_EQ(session->transport(), TransportKind::Polling);
  EXPECT_EQ(session->on_probe_text("5"), Probe::Refused);
  EXPECT_EQ(session->transport(), TransportKind::Polling);
  EXPECT_TRUE(log.closes.empty());
  hold_poll();
  EXPECT_FALSE(session->poll_ready());
  EXPECT_TRUE(send_text("still polling"));
  EXPECT_EQ(session->end_poll(), "4still polling");
}

TEST_F(SessionTest, UpgradeTimeoutWithoutProbe) {
  opts.upgrade_timeout = Millis(100);
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  advance(99);
  EXPECT_TRUE(session->probe_active());
  advance(1);
  EXPECT_FALSE(session->probe_active());
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, CompletedUpgradeDisarmsTheUpgradeTimer) {
  opts.upgrade_timeout = Millis(100);
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_EQ(session->on_probe_text("5"), Probe::Upgraded);
  int before = observer.calls;
  advance(150);
  EXPECT_EQ(observer.calls, before);  // no upgrade timeout notification
  EXPECT_EQ(session->transport(), TransportKind::WebSocket);
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, ProbeLostBeforeTheUpgrade) {
  opts.upgrade_timeout = Millis(100);
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  session->on_probe_lost();
  EXPECT_FALSE(session->probe_active());
  EXPECT_EQ(session->take_probe_frame(), nullptr);
  EXPECT_TRUE(session->open());
  EXPECT_TRUE(log.closes.empty());
  int before = observer.calls;
  advance(100);  // the upgrade timer was disarmed
  EXPECT_EQ(observer.calls, before);
  EXPECT_TRUE(session->begin_upgrade());  // a new attempt is allowed
}

TEST_F(SessionTest, BeginUpgradeIsRefusedWhenNotApplicable) {
  start_websocket();
  EXPECT_FALSE(session->begin_upgrade());  // already a WebSocket session

  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_FALSE(session->begin_upgrade());  // already upgrading
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_FALSE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("5"), Probe::Upgraded);
  EXPECT_FALSE(session->begin_upgrade());  // already upgraded

  start_polling();
  session->close(CloseReason::ForcedClose);
  EXPECT_FALSE(session->begin_upgrade());  // closing

  start_polling();
  session->close(CloseReason::TransportError);
  EXPECT_FALSE(session->begin_upgrade());  // closed

  opts.allow_websocket = false;
  start_polling();
  EXPECT_FALSE(session->begin_upgrade());  // WebSocket disabled
  EXPECT_FALSE(session->probe_active());
}

TEST_F(SessionTest, ProbeTextWithoutUpgradeIsRefused) {
  start_polling();
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Refused);
  EXPECT_EQ(session->on_probe_text("5"), Probe::Refused);
  EXPECT_EQ(session->transport(), TransportKind::Polling);
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, CloseDuringTheProbeDropsIt) {
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  session->close(CloseReason::ForcedClose);
  EXPECT_FALSE(session->probe_active());
  EXPECT_EQ(session->take_probe_frame(), nullptr);
  EXPECT_EQ(session->on_probe_text("5"), Probe::Refused);
  EXPECT_EQ(session->transport(), TransportKind::Polling);
  EXPECT_EQ(poll(), "1");
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, ImmediateCloseDuringTheProbeDropsIt) {
  start_polling();
  hold_poll();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_EQ(session->begin_poll(), Session::PollStart::Overlap);
  EXPECT_FALSE(session->probe_active());
  EXPECT_EQ(session->on_probe_text("5"), Probe::Refused);
  EXPECT_EQ(session->end_poll(), "1");
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportError});
}

TEST_F(SessionTest, PingTimeoutDuringTheProbe) {
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  advance(500);
  EXPECT_EQ(log.closes, Reasons{CloseReason::PingTimeout});
  EXPECT_FALSE(session->probe_active());
  EXPECT_EQ(session->on_probe_text("5"), Probe::Refused);
}

TEST_F(SessionTest, GracefulCloseAfterTheUpgradeDrainsOverTheWebSocket) {
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_EQ(session->on_probe_text("5"), Probe::Upgraded);
  EXPECT_TRUE(send_text("last"));
  session->close(CloseReason::ForcedClose);
  EXPECT_EQ(drain(), Strings{"4last"});  // no "1": WebSocket closes the socket
  session->on_transport_lost(false);
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::ForcedClose});
}

}  // namespace
}  // namespace daheim::engineio

namespace daheim::engineio {
namespace {

using Probe = Session::ProbeResult;

// The phase timer (upgrade deadline, graceful close's drain) exists only
// while an upgrade or a drain runs: an idle session holds none.
TEST_F(SessionTest, PhaseTimerIsAllocatedForAnUpgradeAndFreedWhenItEnds) {
  opts.upgrade_timeout = Millis(100);
  start_polling();
  EXPECT_FALSE(session->phase_timer_allocated());
  EXPECT_EQ(clock.pending(), 1u);  // the heartbeat
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_TRUE(session->phase_timer_allocated());
  EXPECT_EQ(clock.pending(), 2u);
  EXPECT_EQ(session->on_probe_text("2probe"), Probe::Continue);
  EXPECT_EQ(session->on_probe_text("5"), Probe::Upgraded);
  EXPECT_FALSE(session->phase_timer_allocated());
  EXPECT_EQ(clock.pending(), 1u);
}

TEST_F(SessionTest, PhaseTimerIsFreedWhenTheUpgradeTimesOutOrTheProbeIsLost) {
  opts.upgrade_timeout = Millis(100);
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  advance(100);  // freed from its own callback
  EXPECT_FALSE(session->probe_active());
  EXPECT_FALSE(session->phase_timer_allocated());
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_TRUE(session->phase_timer_allocated());
  session->on_probe_lost();
  EXPECT_FALSE(session->phase_timer_allocated());
  EXPECT_EQ(clock.pending(), 1u);
}

TEST_F(SessionTest, PhaseTimerRunsTheDrainOfAGracefulCloseAndIsFreedAfter) {
  start_websocket();
  EXPECT_FALSE(session->phase_timer_allocated());
  EXPECT_TRUE(send_text("x"));
  session->close(CloseReason::ForcedClose);
  EXPECT_TRUE(session->phase_timer_allocated());
  EXPECT_EQ(clock.pending(), 1u);  // the drain only: the heartbeat stopped
  advance(500);                    // pingInterval + pingTimeout
  EXPECT_TRUE(session->closed());
  EXPECT_FALSE(session->phase_timer_allocated());
  EXPECT_EQ(clock.pending(), 0u);
}

TEST_F(SessionTest, ImmediateCloseFreesThePhaseTimer) {
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  session->close(CloseReason::TransportError);
  EXPECT_TRUE(session->closed());
  EXPECT_FALSE(session->phase_timer_allocated());
  EXPECT_EQ(clock.pending(), 0u);
}

}  // namespace
}  // namespace daheim::engineio
