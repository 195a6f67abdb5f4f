// Session: client and server close, protocol errors, overlapping requests.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engineio/session.hpp"
#include "engineio_fakes.hpp"

namespace daheim::engineio {
namespace {

using Strings = std::vector<std::string>;
using Reasons = std::vector<CloseReason>;

// --- Client close -----------------------------------------------------------

TEST_F(SessionTest, ClientCloseViaPostAnswersTheHeldGetWithNoop) {
  start_polling();
  hold_poll();
  int before = observer.calls;
  EXPECT_TRUE(post("1"));  // the POST still gets "ok"
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportClose});
  EXPECT_GT(observer.calls, before);
  EXPECT_TRUE(session->poll_ready());
  EXPECT_FALSE(session->finished());
  EXPECT_EQ(session->end_poll(), "6");
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, ClientCloseViaPostWithoutGetFinishesAtOnce) {
  start_polling();
  EXPECT_TRUE(send_text("undelivered"));
  EXPECT_TRUE(post("1"));
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(session->buffered_bytes(), 0u);
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportClose});
}

TEST_F(SessionTest, PacketsAfterClientCloseInTheSameBodyAreDropped) {
  start_polling();
  EXPECT_TRUE(
      post("4before\x1e"
           "1\x1e"
           "4after"));
  EXPECT_EQ(log.events, (Strings{"text:before", "close:transport close"}));
}

TEST_F(SessionTest, ClientCloseOverWebSocket) {
  start_websocket();
  session->on_ws_text("1");
  EXPECT_TRUE(session->closed());
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportClose});
  session->on_ws_text("4ignored");
  EXPECT_EQ(log.events, (Strings{"close:transport close"}));
}

TEST_F(SessionTest, WebSocketLostCleanlyIsTransportClose) {
  start_websocket();
  session->on_transport_lost(false);
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportClose});
}

TEST_F(SessionTest, WebSocketLostWithErrorIsTransportError) {
  start_websocket();
  send_text("queued");
  session->on_transport_lost(true);
  EXPECT_TRUE(session->finished());
  EXPECT_FALSE(session->has_frames());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportError});
}

TEST_F(SessionTest, AbortedGetIsTransportError) {
  start_polling();
  hold_poll();
  session->poll_aborted();
  EXPECT_TRUE(session->closed());
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportError});
}

// --- Parse errors -----------------------------------------------------------

TEST_F(SessionTest, UnknownPacketOnWebSocketIsParseError) {
  for (std::string bad : {"abc", "7", "a", "", "b"}) {
    log = HandlerLog{};
    start_websocket();
    session->on_ws_text(bad);
    EXPECT_TRUE(session->closed()) << "'" << bad << "'";
    EXPECT_EQ(log.closes, Reasons{CloseReason::ParseError}) << "'" << bad << "'";
    EXPECT_TRUE(log.events.size() == 1) << "'" << bad << "'";
  }
}

TEST_F(SessionTest, UndecodablePostIsParseErrorAndTheHeldGetGetsClose) {
  start_polling();
  hold_poll();
  ASSERT_TRUE(session->begin_post());
  EXPECT_FALSE(session->on_post_body("abc"));
  session->end_post();
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{CloseReason::ParseError});
  EXPECT_EQ(session->end_poll(), "1");
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, PacketsBeforeAParseErrorAreDelivered) {
  start_polling();
  EXPECT_FALSE(
      post("4a\x1e"
           "bAQ==\x1e"
           "x\x1e"
           "4never"));
  EXPECT_EQ(log.events, (Strings{"text:a", "binary:01", "close:parse error"}));
}

TEST_F(SessionTest, EmptyPostBodyIsParseError) {
  start_polling();
  EXPECT_FALSE(post(""));
  EXPECT_EQ(log.closes, Reasons{CloseReason::ParseError});
}

TEST_F(SessionTest, BadBase64InPostIsParseError) {
  start_polling();
  EXPECT_FALSE(
      post("4ok\x1e"
           "b!!!!"));
  EXPECT_EQ(log.events, (Strings{"text:ok", "close:parse error"}));
}

// --- Overlapping requests ---------------------------------------------------

TEST_F(SessionTest, OverlappingGetClosesAndTheHeldGetGetsClose) {
  start_polling();
  hold_poll();
  EXPECT_EQ(session->begin_poll(), Session::PollStart::Overlap);
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportError});
  EXPECT_TRUE(session->poll_ready());
  EXPECT_FALSE(session->finished());
  EXPECT_EQ(session->end_poll(), "1");
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, OverlappingPostClosesTheSession) {
  start_polling();
  hold_poll();
  ASSERT_TRUE(session->begin_post());
  EXPECT_FALSE(session->begin_post());
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportError});
  EXPECT_EQ(session->end_poll(), "1");
  EXPECT_TRUE(session->finished());
}

// --- Server close: graceful -------------------------------------------------

TEST_F(SessionTest, ForcedCloseOnPollingFlushesQueueThenClosePacket) {
  start_polling();
  EXPECT_TRUE(send_text("a"));
  EXPECT_TRUE(send_text("b"));
  int before = observer.calls;
  session->close(CloseReason::ForcedClose);
  EXPECT_GT(observer.calls, before);
  EXPECT_EQ(log.closes, Reasons{CloseReason::ForcedClose});  // told at once
  EXPECT_FALSE(session->open());
  EXPECT_FALSE(session->closed());
  EXPECT_FALSE(session->finished());
  EXPECT_FALSE(send_text("too late"));
  EXPECT_EQ(poll(),
            "4a\x1e"
            "4b\x1e"
            "1");
  EXPECT_TRUE(session->closed());
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(clock.pending(), 0u);
  EXPECT_EQ(log.closes.size(), 1u);
}

TEST_F(SessionTest, ForcedCloseAnswersTheHeldGetWithClose) {
  start_polling();
  hold_poll();
  session->close(CloseReason::ForcedClose);
  EXPECT_TRUE(session->poll_ready());
  EXPECT_EQ(session->end_poll(), "1");
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, ServerShuttingDownIsGracefulToo) {
  start_polling();
  EXPECT_TRUE(send_text("bye"));
  session->close(CloseReason::ServerShuttingDown);
  EXPECT_EQ(log.closes, Reasons{CloseReason::ServerShuttingDown});
  EXPECT_EQ(poll(),
            "4bye\x1e"
            "1");
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, ForcedCloseOnPollingWithoutGetExpires) {
  start_polling();
  send_text("never fetched");
  session->close(CloseReason::ForcedClose);
  advance(499);  // pingInterval + pingTimeout
  EXPECT_FALSE(session->closed());
  int before = observer.calls;
  advance(1);
  EXPECT_TRUE(session->closed());
  EXPECT_TRUE(session->finished());
  EXPECT_GT(observer.calls, before);
  EXPECT_EQ(session->buffered_bytes(), 0u);
  EXPECT_EQ(log.closes, Reasons{CloseReason::ForcedClose});
}

// The drain (drainPollingGrace): a closing session whose GET is not held
// gets a shorter deadline; a GET within it still gets the close packet.
TEST_F(SessionTest, CloseWithinShortensTheWaitForTheLastGet) {
  start_polling();
  send_text("never fetched");
  session->close(CloseReason::ServerShuttingDown);
  session->close_within(Millis(100));
  advance(99);
  EXPECT_FALSE(session->closed());
  int before = observer.calls;
  advance(1);
  EXPECT_TRUE(session->finished());
  EXPECT_GT(observer.calls, before);
  EXPECT_EQ(session->buffered_bytes(), 0u);
  EXPECT_EQ(log.closes, Reasons{CloseReason::ServerShuttingDown});  // told once, at close()
}

TEST_F(SessionTest, GetWithinTheGraceGetsTheClosePacket) {
  start_polling();
  EXPECT_TRUE(send_text("bye"));
  session->close(CloseReason::ServerShuttingDown);
  session->close_within(Millis(100));
  advance(99);
  EXPECT_EQ(poll(),
            "4bye\x1e"
            "1");
  EXPECT_TRUE(session->finished());
  advance(1000);
  EXPECT_EQ(log.closes, Reasons{CloseReason::ServerShuttingDown});
}

TEST_F(SessionTest, CloseWithinNeitherLengthensNorTouchesAnOpenSession) {
  start_polling();
  session->close_within(Millis(10));  // open: nothing to shorten
  advance(10);
  EXPECT_TRUE(session->open());
  session->close(CloseReason::ForcedClose);
  session->close_within(Millis(100000));  // longer than pingInterval + pingTimeout
  advance(500);
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, NoHeartbeatWhileClosing) {
  start_polling();
  session->close(CloseReason::ForcedClose);
  // A GET that the transport has not answered yet.
  EXPECT_EQ(session->begin_poll(), Session::PollStart::Answer);
  advance(300);
  EXPECT_EQ(session->end_poll(), "1");  // no ping in there
}

TEST_F(SessionTest, GracefulCloseOnWebSocketDrainsFrames) {
  start_websocket();
  EXPECT_TRUE(send_text("a"));
  EXPECT_TRUE(session->send(make_binary_frame("\x01")));
  session->close(CloseReason::ForcedClose);
  EXPECT_EQ(log.closes, Reasons{CloseReason::ForcedClose});
  EXPECT_FALSE(session->open());
  EXPECT_FALSE(session->closed());
  EXPECT_FALSE(send_text("too late"));
  EXPECT_TRUE(session->has_frames());
  EXPECT_EQ(drain(), (Strings{"4a", "bin:01"}));  // no close packet on WebSocket
  EXPECT_FALSE(session->finished());
  session->on_transport_lost(false);  // the transport closed the socket
  EXPECT_TRUE(session->closed());
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(log.closes, Reasons{CloseReason::ForcedClose});
}

TEST_F(SessionTest, GracefulCloseOnWebSocketStopsTheHeartbeat) {
  start_websocket();
  session->close(CloseReason::ForcedClose);
  advance(10000);
  EXPECT_FALSE(session->has_frames());
  EXPECT_EQ(log.closes, Reasons{CloseReason::ForcedClose});
}

TEST_F(SessionTest, ClientMessagesWhileClosingAreIgnored) {
  start_websocket();
  session->close(CloseReason::ForcedClose);
  session->on_ws_text("4late");
  session->on_ws_binary("late");
  session->on_ws_text("garbage");
  EXPECT_EQ(log.events, (Strings{"close:forced close"}));
}

// --- Server close: immediate ------------------------------------------------

class ImmediateClose : public SessionTest, public ::testing::WithParamInterface<CloseReason> {};

TEST_P(ImmediateClose, DropsTheQueueAndTheHeldGetGetsClose) {
  start_polling();
  hold_poll();
  EXPECT_TRUE(send_text("dropped"));  // not yet written by the transport
  int before = observer.calls;
  session->close(GetParam());
  EXPECT_GT(observer.calls, before);
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, Reasons{GetParam()});
  EXPECT_EQ(session->buffered_bytes(), 0u);
  EXPECT_TRUE(session->poll_ready());
  EXPECT_EQ(session->end_poll(), "1");
  EXPECT_TRUE(session->finished());
  EXPECT_EQ(clock.pending(), 0u);
}

TEST_P(ImmediateClose, DropsTheWebSocketQueue) {
  start_websocket();
  EXPECT_TRUE(send_text("dropped"));
  session->close(GetParam());
  EXPECT_TRUE(session->closed());
  EXPECT_TRUE(session->finished());
  EXPECT_FALSE(session->has_frames());
  EXPECT_EQ(session->pop_frame(), nullptr);
  EXPECT_EQ(log.closes, Reasons{GetParam()});
}

INSTANTIATE_TEST_SUITE_P(Reasons, ImmediateClose,
                         ::testing::Values(CloseReason::TransportClose, CloseReason::TransportError,
                                           CloseReason::PingTimeout, CloseReason::ParseError));

// --- on_close exactly once --------------------------------------------------

TEST_F(SessionTest, HandlerIsToldOnceWhateverHappensAfterwards) {
  start_polling();
  hold_poll();
  session->close(CloseReason::ForcedClose);
  session->close(CloseReason::ForcedClose);
  session->close(CloseReason::TransportError);
  EXPECT_EQ(session->begin_poll(), Session::PollStart::Overlap);
  EXPECT_FALSE(post("abc"));
  session->on_ws_text("2");
  session->on_transport_lost(true);
  session->poll_aborted();
  advance(60000);
  EXPECT_EQ(log.closes, Reasons{CloseReason::ForcedClose});
}

TEST_F(SessionTest, HandlerIsToldOnceAfterImmediateClose) {
  start_websocket();
  session->on_ws_text("1");
  session->on_ws_text("2");
  session->close(CloseReason::ForcedClose);
  session->on_transport_lost(true);
  advance(60000);
  EXPECT_EQ(log.closes, Reasons{CloseReason::TransportClose});
}

TEST_F(SessionTest, HandlerCannotSendFromOnClose) {
  start_websocket();
  bool sent = true;
  log.on_close = [&](CloseReason) { sent = send_text("from on_close"); };
  session->close(CloseReason::ForcedClose);
  EXPECT_FALSE(sent);
  EXPECT_FALSE(session->has_frames());
}

TEST_F(SessionTest, HandlerClosingFromOnMessageStopsTheRestOfThePost) {
  start_polling();
  log.on_message = [this](std::string_view text) {
    if (text == "stop") session->close(CloseReason::ForcedClose);
  };
  EXPECT_TRUE(
      post("4go\x1e"
           "4stop\x1e"
           "4never\x1e"
           "2"));
  EXPECT_EQ(log.events, (Strings{"text:go", "text:stop", "close:forced close"}));
  EXPECT_EQ(poll(), "1");
  EXPECT_TRUE(session->finished());
}

TEST_F(SessionTest, ObserverSeesTheClosedStateWhenNotified) {
  start_polling();
  hold_poll();
  std::vector<bool> seen_closed;
  observer.hook = [&](Session& s) { seen_closed.push_back(s.closed()); };
  session->close(CloseReason::TransportError);
  EXPECT_EQ(seen_closed, std::vector<bool>{true});
  EXPECT_EQ(observer.last, session.get());
}

}  // namespace
}  // namespace daheim::engineio
