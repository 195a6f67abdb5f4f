// Session: handshake, message dispatch, long-polling and the send queue.
#include "engineio/session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "engineio_fakes.hpp"

namespace daheim::engineio {
namespace {

using namespace std::string_literals;
using Strings = std::vector<std::string>;

const std::string kPollingOpen =
    R"(0{"sid":"abcdefghijklmnopqrst","upgrades":["websocket"],"pingInterval":300,)"
    R"("pingTimeout":200,"maxPayload":1000000})";
const std::string kWebSocketOpen =
    R"(0{"sid":"abcdefghijklmnopqrst","upgrades":[],"pingInterval":300,)"
    R"("pingTimeout":200,"maxPayload":1000000})";

// --- to_string / Handshake --------------------------------------------------

TEST(CloseReasonNames, MatchTheReference) {
  EXPECT_EQ(to_string(CloseReason::TransportClose), "transport close");
  EXPECT_EQ(to_string(CloseReason::TransportError), "transport error");
  EXPECT_EQ(to_string(CloseReason::PingTimeout), "ping timeout");
  EXPECT_EQ(to_string(CloseReason::ParseError), "parse error");
  EXPECT_EQ(to_string(CloseReason::ForcedClose), "forced close");
  EXPECT_EQ(to_string(CloseReason::ServerShuttingDown), "server shutting down");
  EXPECT_EQ(to_string(TransportKind::Polling), "polling");
  EXPECT_EQ(to_string(TransportKind::WebSocket), "websocket");
}

TEST(HandshakeLookup, FindsFirstQueryParamAndHeader) {
  Handshake h("127.0.0.1", "/socket.io/?EIO=4", {{"origin", "http://a"}, {"user-agent", "ua"}},
              {{"EIO", "4"}, {"transport", "polling"}, {"t", "x"}, {"t", "y"}});
  ASSERT_TRUE(h.query_param("transport"));
  EXPECT_EQ(*h.query_param("transport"), "polling");
  ASSERT_TRUE(h.query_param("t"));
  EXPECT_EQ(*h.query_param("t"), "x");
  EXPECT_FALSE(h.query_param("sid"));
  EXPECT_FALSE(h.query_param("eio"));  // names are case-sensitive
  ASSERT_TRUE(h.header("user-agent"));
  EXPECT_EQ(*h.header("user-agent"), "ua");
  EXPECT_FALSE(h.header("cookie"));
  EXPECT_EQ(h.headers().size(), 2u);
  EXPECT_EQ(h.headers().at(0), (HeaderList::Entry{"origin", "http://a"}));
  EXPECT_EQ(h.headers().at(1), (HeaderList::Entry{"user-agent", "ua"}));
}

// --- Handshake / open packet ------------------------------------------------

TEST_F(SessionTest, PollingOpenPacketIsExact) {
  start(TransportKind::Polling);
  EXPECT_TRUE(session->open());
  EXPECT_FALSE(session->closed());
  EXPECT_FALSE(session->finished());
  EXPECT_EQ(session->transport(), TransportKind::Polling);
  EXPECT_EQ(session->buffered_bytes(), kPollingOpen.size());
  EXPECT_EQ(poll(), kPollingOpen);
  EXPECT_EQ(session->buffered_bytes(), 0u);
}

TEST_F(SessionTest, WebSocketOpenPacketIsExact) {
  start(TransportKind::WebSocket);
  EXPECT_EQ(session->transport(), TransportKind::WebSocket);
  ASSERT_TRUE(session->has_frames());
  FramePtr f = session->pop_frame();
  ASSERT_TRUE(f);
  EXPECT_FALSE(f->binary);
  EXPECT_EQ(f->body(), kWebSocketOpen);
  EXPECT_EQ(session->pop_frame(), nullptr);
  EXPECT_FALSE(session->has_frames());
  EXPECT_EQ(session->buffered_bytes(), 0u);
}

TEST_F(SessionTest, PollingOpenOffersNoUpgradeWhenWebSocketIsDisabled) {
  opts.allow_websocket = false;
  start(TransportKind::Polling);
  EXPECT_EQ(poll(), R"(0{"sid":"abcdefghijklmnopqrst","upgrades":[],"pingInterval":300,)"
                    R"("pingTimeout":200,"maxPayload":1000000})");
}

TEST_F(SessionTest, OpenPacketCarriesTheConfiguredValues) {
  opts = Options{};
  start(TransportKind::WebSocket);
  EXPECT_EQ(describe(session->pop_frame()),
            R"(0{"sid":"abcdefghijklmnopqrst","upgrades":[],"pingInterval":25000,)"
            R"("pingTimeout":20000,"maxPayload":1000000})");
}

TEST_F(SessionTest, OpenPacketMaxPayload) {
  opts.max_payload = 12345;
  opts.ping_interval = Millis(1);
  opts.ping_timeout = Millis(2);
  start(TransportKind::Polling);
  EXPECT_EQ(poll(), R"(0{"sid":"abcdefghijklmnopqrst","upgrades":["websocket"],"pingInterval":1,)"
                    R"("pingTimeout":2,"maxPayload":12345})");
}

TEST_F(SessionTest, OpenPacketUsesTheGivenSid) {
  session = std::make_unique<Session>("WJC-JnPHnbx1J6bZAAF6", TransportKind::Polling, Handshake{},
                                      opts, clock, observer);
  session->start(std::make_unique<RecordingHandler>(log));
  EXPECT_EQ(session->id(), "WJC-JnPHnbx1J6bZAAF6");
  EXPECT_EQ(poll(), R"(0{"sid":"WJC-JnPHnbx1J6bZAAF6","upgrades":["websocket"],"pingInterval":300,)"
                    R"("pingTimeout":200,"maxPayload":1000000})");
}

TEST_F(SessionTest, ExposesConnectionProperties) {
  Handshake h("127.0.0.1", "/engine.io/?EIO=4&transport=polling", {},
              {{"EIO", "4"}, {"transport", "polling"}});
  start(TransportKind::Polling, h);
  Connection& c = *session;
  EXPECT_EQ(c.id(), kTestSid);
  EXPECT_EQ(c.transport(), TransportKind::Polling);
  EXPECT_EQ(c.handshake().address(), "127.0.0.1");
  EXPECT_EQ(c.handshake().url(), "/engine.io/?EIO=4&transport=polling");
  ASSERT_TRUE(c.handshake().query_param("EIO"));
  EXPECT_EQ(*c.handshake().query_param("EIO"), "4");
  EXPECT_EQ(&c.timers(), &clock);
  EXPECT_EQ(&session->options(), &opts);
}

TEST_F(SessionTest, StartDoesNotCallTheHandler) {
  start(TransportKind::Polling);
  EXPECT_TRUE(log.events.empty());
}

// --- Incoming messages ------------------------------------------------------

TEST_F(SessionTest, PostBodyPacketsAreDispatchedInOrder) {
  start_polling();
  EXPECT_TRUE(
      post("4hello\x1e"
           "bAQIDBA==\x1e"
           "4world\x1e"
           "4"));
  EXPECT_EQ(log.events, (Strings{"text:hello", "binary:01020304", "text:world", "text:"}));
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, WebSocketTextAndBinaryMessages) {
  start_websocket();
  session->on_ws_text("4hello");
  session->on_ws_binary(std::string("\x01\x02\x00\x04", 4));
  session->on_ws_text("4");
  session->on_ws_text("4caf\xc3\xa9");
  session->on_ws_binary("");
  EXPECT_EQ(log.events,
            (Strings{"text:hello", "binary:01020004", "text:", "text:caf\xc3\xa9", "binary:"}));
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, OpenUpgradeAndNoopFromTheClientAreIgnored) {
  start_polling();
  EXPECT_TRUE(
      post("6\x1e"
           "0\x1e"
           "5\x1e"
           "4x"));
  session->on_ws_text("6");
  EXPECT_EQ(log.events, (Strings{"text:x"}));
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, SequentialPostsAreFine) {
  start_polling();
  EXPECT_TRUE(post("4a"));
  EXPECT_TRUE(post("4b"));
  EXPECT_EQ(log.events, (Strings{"text:a", "text:b"}));
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, HandlerMaySendFromOnMessage) {
  // The conformance echo: the reply goes out in the next GET.
  start_polling();
  log.on_message = [this](std::string_view text) {
    session->send(make_text_frame(PacketType::Message, text));
  };
  log.on_binary = [this](std::string_view data) { session->send(make_binary_frame(data)); };
  hold_poll();
  EXPECT_TRUE(
      post("4hello\x1e"
           "bAQIDBA=="));
  EXPECT_TRUE(session->poll_ready());
  EXPECT_EQ(session->end_poll(),
            "4hello\x1e"
            "bAQIDBA==");
}

// --- Long-polling -----------------------------------------------------------

TEST_F(SessionTest, GetIsHeldUntilDataIsSent) {
  start_polling();
  EXPECT_FALSE(session->poll_ready());  // no GET yet
  hold_poll();
  EXPECT_FALSE(session->poll_ready());
  int before = observer.calls;
  EXPECT_TRUE(send_text("hi"));
  EXPECT_GT(observer.calls, before);
  EXPECT_EQ(observer.last, session.get());
  EXPECT_TRUE(session->poll_ready());
  EXPECT_EQ(session->end_poll(), "4hi");
  EXPECT_FALSE(session->poll_ready());
  EXPECT_EQ(session->buffered_bytes(), 0u);
  // The next GET is held again.
  hold_poll();
  EXPECT_FALSE(session->poll_ready());
}

// The transport builds every answer into one string it keeps (answer_poll):
// each answer replaces what the string held, queued frames and noop alike.
TEST_F(SessionTest, EndPollIntoAStringReplacesItsContent) {
  start_polling();
  std::string out = "left over from the last answer, longer than any below";
  EXPECT_TRUE(send_text("a"));
  EXPECT_TRUE(send_text("b"));
  EXPECT_EQ(session->begin_poll(), Session::PollStart::Answer);
  session->end_poll(out);
  EXPECT_EQ(out,
            "4a\x1e"
            "4b");
  hold_poll();
  ASSERT_TRUE(session->begin_post());
  EXPECT_FALSE(session->on_post_body("abc"));  // a parse error closes the session
  session->end_post();
  ASSERT_TRUE(session->poll_ready());
  session->end_poll(out);
  EXPECT_EQ(out, "1");
}

TEST_F(SessionTest, GetIsAnsweredAtOnceWhenDataIsQueued) {
  start(TransportKind::Polling);
  EXPECT_EQ(session->begin_poll(), Session::PollStart::Answer);
  EXPECT_TRUE(session->poll_ready());
  EXPECT_EQ(session->end_poll(), kPollingOpen);
}

TEST_F(SessionTest, AllBufferedPacketsGoInOneGetBody) {
  start_polling();
  EXPECT_TRUE(send_text("test1"));
  EXPECT_TRUE(send_text("test2"));
  EXPECT_TRUE(session->send(make_binary_frame(std::string("\x01\x02\x03\x04", 4))));
  EXPECT_TRUE(send_text("test3"));
  EXPECT_EQ(session->buffered_bytes(), 6u + 6u + 4u + 6u);
  EXPECT_EQ(poll(),
            "4test1\x1e"
            "4test2\x1e"
            "bAQIDBA==\x1e"
            "4test3");
  EXPECT_EQ(session->buffered_bytes(), 0u);
  hold_poll();
}

TEST_F(SessionTest, OpenPacketAndFirstMessagesShareTheFirstGet) {
  start(TransportKind::Polling);
  EXPECT_TRUE(send_text("40"));
  EXPECT_EQ(poll(), kPollingOpen +
                        "\x1e"
                        "440");
}

TEST_F(SessionTest, SharedFrameGoesToSeveralSessions) {
  start_websocket();
  Session other("tsrqponmlkjihgfedcba", TransportKind::WebSocket, Handshake{}, opts, clock,
                observer);
  HandlerLog other_log;
  other.start(std::make_unique<RecordingHandler>(other_log));
  other.pop_frame();
  FramePtr f = make_text_frame(PacketType::Message, "broadcast");
  EXPECT_TRUE(session->send(f));
  EXPECT_TRUE(other.send(f));
  EXPECT_EQ(session->pop_frame(), f);
  EXPECT_EQ(other.pop_frame(), f);
}

// --- WebSocket send queue ---------------------------------------------------

TEST_F(SessionTest, WebSocketFramesComeOutInOrderWithByteAccounting) {
  start_websocket();
  int before = observer.calls;
  EXPECT_TRUE(send_text("a"));
  EXPECT_TRUE(session->send(make_binary_frame("xyz")));
  EXPECT_TRUE(send_text("bcd"));
  EXPECT_EQ(observer.calls, before + 3);
  EXPECT_EQ(session->buffered_bytes(), 2u + 3u + 4u);
  EXPECT_EQ(describe(session->pop_frame()), "4a");
  EXPECT_EQ(session->buffered_bytes(), 3u + 4u);
  EXPECT_EQ(describe(session->pop_frame()), "bin:78797a");
  EXPECT_EQ(session->buffered_bytes(), 4u);
  EXPECT_EQ(describe(session->pop_frame()), "4bcd");
  EXPECT_EQ(session->buffered_bytes(), 0u);
  EXPECT_EQ(session->pop_frame(), nullptr);
}

// --- can_send_now -----------------------------------------------------------

TEST_F(SessionTest, CanSendNowOnPolling) {
  start(TransportKind::Polling);
  EXPECT_FALSE(session->can_send_now());  // open packet queued, no GET
  EXPECT_EQ(session->begin_poll(), Session::PollStart::Answer);
  EXPECT_FALSE(session->can_send_now());  // GET held but queue not empty
  session->end_poll();
  EXPECT_FALSE(session->can_send_now());  // queue empty but no GET
  hold_poll();
  EXPECT_TRUE(session->can_send_now());  // a held GET takes it at once
  send_text("x");
  EXPECT_FALSE(session->can_send_now());
  EXPECT_EQ(session->end_poll(), "4x");
  EXPECT_FALSE(session->can_send_now());
}

TEST_F(SessionTest, CanSendNowOnWebSocket) {
  start(TransportKind::WebSocket);
  EXPECT_FALSE(session->can_send_now());  // open frame queued
  session->pop_frame();
  EXPECT_TRUE(session->can_send_now());
  send_text("x");
  EXPECT_FALSE(session->can_send_now());
  session->pop_frame();
  EXPECT_TRUE(session->can_send_now());
  session->close(CloseReason::ForcedClose);
  EXPECT_FALSE(session->can_send_now());
}

TEST_F(SessionTest, CannotSendNowOnceClosed) {
  start_polling();
  hold_poll();
  EXPECT_TRUE(session->can_send_now());
  session->close(CloseReason::TransportError);
  EXPECT_FALSE(session->can_send_now());
}

// --- Slow consumers ---------------------------------------------------------

TEST_F(SessionTest, ExceedingMaxBufferedBytesClosesWithTransportError) {
  opts.max_buffered_bytes = 10;
  start_websocket();
  EXPECT_TRUE(send_text("abcd"));  // 5 bytes
  EXPECT_TRUE(send_text("efgh"));  // 10 bytes: at the limit is fine
  EXPECT_EQ(session->buffered_bytes(), 10u);
  EXPECT_TRUE(session->open());
  EXPECT_TRUE(log.closes.empty());
  int before = observer.calls;
  EXPECT_FALSE(send_text(""));  // 11 bytes
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, std::vector<CloseReason>{CloseReason::TransportError});
  EXPECT_GT(observer.calls, before);
  EXPECT_FALSE(session->has_frames());
  EXPECT_EQ(session->buffered_bytes(), 0u);
  EXPECT_FALSE(send_text("more"));
  EXPECT_EQ(log.closes.size(), 1u);
}

TEST_F(SessionTest, DrainingKeepsTheSessionUnderTheLimit) {
  opts.max_buffered_bytes = 10;
  start_websocket();
  for (int i = 0; i < 100; ++i) {
    ASSERT_TRUE(send_text("abcdefgh")) << i;  // 9 bytes each
    ASSERT_EQ(describe(session->pop_frame()), "4abcdefgh");
  }
  EXPECT_TRUE(session->open());
}

TEST_F(SessionTest, ExceedingMaxBufferedBytesOnPollingAnswersTheHeldGetWithClose) {
  opts.max_buffered_bytes = 10;
  start_polling();
  hold_poll();
  EXPECT_TRUE(send_text("123456"));  // 7 bytes; the transport has not answered yet
  EXPECT_FALSE(send_text("7890"));   // 12 bytes
  EXPECT_TRUE(session->closed());
  EXPECT_EQ(log.closes, std::vector<CloseReason>{CloseReason::TransportError});
  EXPECT_TRUE(session->poll_ready());
  EXPECT_FALSE(session->finished());
  EXPECT_EQ(session->end_poll(), "1");
  EXPECT_TRUE(session->finished());
}

// A session counts its queued bytes in 32 bits: a frame that would take the
// count past kMaxBufferedBytes (4 GiB - 1) closes it as a slow consumer
// whatever max_buffered_bytes says (config refuses a larger one). One 16 MiB
// frame, shared, is queued again and again (as a broadcast's frames are).
void fill_to_the_counters_end(Session& session, OutboxBudget& budget) {
  FramePtr frame = make_text_frame(PacketType::Message, std::string(16u << 20, 'x'));
  std::size_t fits = kMaxBufferedBytes / frame->size();
  for (std::size_t i = 0; i < fits; ++i) ASSERT_TRUE(session.send(frame)) << i;
  EXPECT_EQ(session.buffered_bytes(), fits * frame->size());
  EXPECT_EQ(budget.total(), fits * frame->size());
  EXPECT_TRUE(session.open());
  EXPECT_FALSE(session.send(frame));
  EXPECT_TRUE(session.closed());
  EXPECT_TRUE(session.slow_consumer());
  EXPECT_EQ(session.buffered_bytes(), 0u);
  EXPECT_EQ(budget.total(), 0u);
}

TEST_F(SessionTest, MaxBufferedBytesAtTheCountersEnd) {
  OutboxBudget budget;
  opts.max_buffered_bytes = kMaxBufferedBytes;
  start(TransportKind::WebSocket);
  session->pop_frame();  // the open packet, before the budget counts
  session->set_budget(&budget);
  fill_to_the_counters_end(*session, budget);
  EXPECT_EQ(log.closes, std::vector<CloseReason>{CloseReason::TransportError});
  session.reset();  // gone before the budget it counts in
}

TEST_F(SessionTest, CounterBoundsTheQueueAboveAnyMaxBufferedBytes) {
  OutboxBudget budget;
  opts.max_buffered_bytes = std::size_t{1} << 40;  // past config's bound
  start(TransportKind::WebSocket);
  session->pop_frame();  // the open packet, before the budget counts
  session->set_budget(&budget);
  fill_to_the_counters_end(*session, budget);
  EXPECT_EQ(log.closes, std::vector<CloseReason>{CloseReason::TransportError});
  session.reset();  // gone before the budget it counts in
}

// A closing session whose count is at its end loses the frame it would queue
// on its own (the polling close packet) and keeps closing.
TEST_F(SessionTest, ClosingSessionAtTheCountersEndDropsItsCloseFrame) {
  opts.max_buffered_bytes = std::size_t{1} << 40;
  start_polling();
  FramePtr frame = make_text_frame(PacketType::Message, std::string(16u << 20, 'x'));
  std::size_t fits = kMaxBufferedBytes / frame->size();
  for (std::size_t i = 0; i < fits; ++i) ASSERT_TRUE(session->send(frame)) << i;
  std::size_t rest = kMaxBufferedBytes - fits * frame->size();
  ASSERT_TRUE(session->send(make_text_frame(PacketType::Message, std::string(rest - 1, 'y'))));
  EXPECT_EQ(session->buffered_bytes(), kMaxBufferedBytes);
  session->close(CloseReason::ForcedClose);
  EXPECT_FALSE(session->open());
  EXPECT_FALSE(session->closed());  // closing: the drain's deadline runs
  EXPECT_FALSE(session->slow_consumer());
  EXPECT_EQ(session->buffered_bytes(), kMaxBufferedBytes);
  EXPECT_EQ(log.closes, std::vector<CloseReason>{CloseReason::ForcedClose});
}

// --- Teardown ---------------------------------------------------------------

TEST_F(SessionTest, DestroyingTheSessionCancelsItsTimers) {
  start_polling();
  ASSERT_TRUE(session->begin_upgrade());
  EXPECT_GT(clock.pending(), 0u);
  session.reset();
  EXPECT_EQ(clock.pending(), 0u);
  advance(60000);  // nothing fires into freed memory
}

TEST_F(SessionTest, DestroyingAClosingSessionCancelsTheCloseTimer) {
  start_polling();
  session->close(CloseReason::ForcedClose);
  EXPECT_EQ(clock.pending(), 1u);
  session.reset();
  EXPECT_EQ(clock.pending(), 0u);
}

}  // namespace
}  // namespace daheim::engineio
