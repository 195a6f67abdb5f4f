// Server-to-client acknowledgements: per socket and per broadcast, with
// timeouts on the fake clock.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.hpp"

namespace daheim::testing {
namespace {

using loop::Millis;
using socketio::AckResponse;
using socketio::BroadcastOptions;
using socketio::Socket;
using Frames = std::vector<std::string>;

struct AckLog {
  int calls = 0;
  bool timed_out = false;
  std::string args;
  std::vector<std::string> attachments;

  socketio::AckCallback callback() {
    return [this](bool t, std::string_view a, std::vector<std::string>& atts) {
      ++calls;
      timed_out = t;
      args = std::string(a);
      attachments = std::move(atts);
    };
  }
};

class AckTest : public ::testing::Test {
 protected:
  Harness h;
};

TEST_F(AckTest, SocketAckIdsArePerNamespaceAndStartAtZero) {
  AckLog la, lb, lc;  // before the peers: pending callbacks run when they close
  auto a = h.join();
  auto b = h.join();
  EXPECT_TRUE(Harness::socket_of(*a).emit_with_ack("ping", "[1]", {}, Millis(500), la.callback()));
  EXPECT_TRUE(Harness::socket_of(*b).emit_with_ack("ping", "[2]", {}, Millis(500), lb.callback()));
  EXPECT_EQ(a->take(), Frames{R"(420["ping",1])"});
  EXPECT_EQ(b->take(), Frames{R"(421["ping",2])"});
  h.server.of("/custom");
  auto c = h.join("/custom");
  Harness::socket_of(*c, "/custom").emit_with_ack("x", "", {}, Millis(500), lc.callback());
  EXPECT_EQ(c->take(), Frames{R"(42/custom,0["x"])"});
}

TEST_F(AckTest, ClientAnswerRunsTheCallback) {
  AckLog log;
  auto p = h.join();
  Socket& s = Harness::socket_of(*p);
  s.emit_with_ack("ping", "", {}, Millis(500), log.callback());
  EXPECT_EQ(s.pending_acks(), 1u);
  p->send(R"(430["pong",{"a":1}])");
  EXPECT_EQ(log.calls, 1);
  EXPECT_FALSE(log.timed_out);
  EXPECT_EQ(log.args, R"(["pong",{"a":1}])");
  EXPECT_EQ(s.pending_acks(), 0u);
  h.timers.advance(Millis(1000));
  EXPECT_EQ(log.calls, 1);
  p->send(R"(430["again"])");  // unknown by now: ignored
  EXPECT_EQ(log.calls, 1);
  EXPECT_FALSE(p->conn.closed);
}

TEST_F(AckTest, BinaryAnswerCarriesAttachments) {
  AckLog log;
  auto p = h.join();
  Harness::socket_of(*p).emit_with_ack("ping", "", {}, Millis(500), log.callback());
  p->send(R"(461-0[)" + std::string(kPh0) + "]");
  EXPECT_EQ(log.calls, 0);
  p->send_binary("\x09\x08");
  EXPECT_EQ(log.calls, 1);
  EXPECT_EQ(log.args, "[" + std::string(kPh0) + "]");
  EXPECT_EQ(log.attachments, Frames{"\x09\x08"});
}

TEST_F(AckTest, TimesOutOnceAndIgnoresALateAnswer) {
  AckLog first, second;
  auto p = h.join();
  Socket& s = Harness::socket_of(*p);
  s.emit_with_ack("a", "", {}, Millis(300), first.callback());
  s.emit_with_ack("b", "", {}, Millis(100), second.callback());
  h.timers.advance(Millis(99));
  EXPECT_EQ(second.calls, 0);
  h.timers.advance(Millis(1));
  EXPECT_EQ(second.calls, 1);
  EXPECT_TRUE(second.timed_out);
  EXPECT_EQ(second.args, "");
  EXPECT_EQ(first.calls, 0);
  h.timers.advance(Millis(200));
  EXPECT_EQ(first.calls, 1);
  EXPECT_TRUE(first.timed_out);
  p->send(R"(430[])");
  EXPECT_EQ(first.calls, 1);
  EXPECT_EQ(s.pending_acks(), 0u);
  EXPECT_EQ(h.timers.pending(), 0u);
}

TEST_F(AckTest, SendsAttachmentsAsBinaryEvent) {
  AckLog log;  // outlives the peer: its teardown fails the pending ack into it
  auto p = h.join();
  std::vector<std::string> atts = {"\x01"};
  Harness::socket_of(*p).emit_with_ack("file", "[" + std::string(kPh0) + "]", atts, Millis(10),
                                       log.callback());
  EXPECT_EQ(p->take(), (Frames{R"(451-0["file",)" + std::string(kPh0) + "]", "<bin:\x01>"}));
}

TEST_F(AckTest, DisconnectFailsPendingAcksOnce) {
  AckLog log;
  auto p = h.join();
  Harness::socket_of(*p).emit_with_ack("a", "", {}, Millis(300), log.callback());
  p->conn.close(engineio::CloseReason::TransportClose);
  EXPECT_EQ(log.calls, 1);
  EXPECT_TRUE(log.timed_out);
  h.timers.advance(Millis(1000));
  EXPECT_EQ(log.calls, 1);
}

TEST_F(AckTest, RefusesBeyondMaxPendingAcks) {
  socketio::Options o = fixture_options();
  o.max_pending_acks = 2;
  AckLog l1, l2, l3;
  Harness small(o);
  auto p = small.join();
  Socket& s = Harness::socket_of(*p);
  EXPECT_TRUE(s.emit_with_ack("a", "", {}, Millis(100), l1.callback()));
  EXPECT_TRUE(s.emit_with_ack("a", "", {}, Millis(100), l2.callback()));
  EXPECT_FALSE(s.emit_with_ack("a", "", {}, Millis(100), l3.callback()));
  EXPECT_EQ(p->take().size(), 2u);
  small.timers.advance(Millis(100));
  EXPECT_EQ(l3.calls, 0);
  EXPECT_TRUE(s.emit_with_ack("a", "", {}, Millis(100), l3.callback()));
}

TEST_F(AckTest, NotConnectedRefuses) {
  auto p = h.join();
  Socket& s = Harness::socket_of(*p);
  s.disconnect();
  AckLog log;
  EXPECT_FALSE(s.emit_with_ack("a", "", {}, Millis(100), log.callback()));
  EXPECT_FALSE(s.emit("a"));
  EXPECT_FALSE(s.ack(1));
}

struct BroadcastLog {
  int calls = 0;
  bool timed_out = false;
  std::vector<AckResponse> responses;

  socketio::BroadcastAckCallback callback() {
    return [this](bool t, std::vector<AckResponse>& r) {
      ++calls;
      timed_out = t;
      responses = std::move(r);
    };
  }
};

TEST_F(AckTest, BroadcastCollectsEveryAnswer) {
  auto a = h.join();
  auto b = h.join();
  auto outside = h.join();
  Harness::socket_of(*a).join("room");
  Harness::socket_of(*b).join("room");
  BroadcastOptions opts;
  opts.rooms = {"room"};
  BroadcastLog log;
  ASSERT_TRUE(h.server.of("/").emit_with_ack(opts, "q", "[1]", {}, Millis(500), log.callback()));
  EXPECT_EQ(a->take(), Frames{R"(420["q",1])"});
  EXPECT_EQ(b->take(), Frames{R"(420["q",1])"});
  EXPECT_TRUE(outside->take().empty());
  a->send(R"(430["from a"])");
  EXPECT_EQ(log.calls, 0);
  b->send(R"(430["from b"])");
  ASSERT_EQ(log.calls, 1);
  EXPECT_FALSE(log.timed_out);
  ASSERT_EQ(log.responses.size(), 2u);
  EXPECT_EQ(log.responses[0].args, R"(["from a"])");
  EXPECT_EQ(log.responses[1].args, R"(["from b"])");
  h.timers.advance(Millis(1000));
  EXPECT_EQ(log.calls, 1);
}

TEST_F(AckTest, BroadcastTimesOutWithThePartialAnswers) {
  auto a = h.join();
  auto b = h.join();
  BroadcastLog log;
  h.server.of("/").emit_with_ack({}, "q", "", {}, Millis(500), log.callback());
  a->send(R"(430[1])");
  h.timers.advance(Millis(499));
  EXPECT_EQ(log.calls, 0);
  h.timers.advance(Millis(1));
  ASSERT_EQ(log.calls, 1);
  EXPECT_TRUE(log.timed_out);
  ASSERT_EQ(log.responses.size(), 1u);
  EXPECT_EQ(log.responses[0].args, "[1]");
  b->send(R"(430[2])");
  EXPECT_EQ(log.calls, 1);
}

TEST_F(AckTest, BroadcastToNobodyCompletesAtOnce) {
  BroadcastLog log;
  BroadcastOptions opts;
  opts.rooms = {"empty"};
  EXPECT_TRUE(h.server.of("/").emit_with_ack(opts, "q", "", {}, Millis(500), log.callback()));
  EXPECT_EQ(log.calls, 1);
  EXPECT_FALSE(log.timed_out);
  EXPECT_TRUE(log.responses.empty());
}

TEST_F(AckTest, BroadcastAcksAreBounded) {
  socketio::Options o = fixture_options();
  o.max_pending_broadcast_acks = 1;
  Harness small(o);
  auto p = small.join();
  BroadcastLog l1, l2;
  EXPECT_TRUE(small.server.of("/").emit_with_ack({}, "q", "", {}, Millis(50), l1.callback()));
  EXPECT_FALSE(small.server.of("/").emit_with_ack({}, "q", "", {}, Millis(50), l2.callback()));
  small.timers.advance(Millis(50));
  EXPECT_EQ(l1.calls, 1);
  EXPECT_TRUE(small.server.of("/").emit_with_ack({}, "q", "", {}, Millis(50), l2.callback()));
}

TEST_F(AckTest, StaleBroadcastEntriesDoNotBlockASocket) {
  socketio::Options o = fixture_options();
  o.max_pending_acks = 1;
  AckLog single;
  Harness small(o);
  auto p = small.join();
  BroadcastLog log;
  small.server.of("/").emit_with_ack({}, "q", "", {}, Millis(50), log.callback());
  Socket& s = Harness::socket_of(*p);
  EXPECT_EQ(s.pending_acks(), 1u);
  small.timers.advance(Millis(50));  // never answered
  EXPECT_TRUE(s.emit_with_ack("a", "", {}, Millis(50), single.callback()));
}

}  // namespace
}  // namespace daheim::testing
