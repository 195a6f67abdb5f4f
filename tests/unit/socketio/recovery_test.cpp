// Connection-state recovery through fake sessions: the pid in the CONNECT
// reply, offsets on logged events, the missed events before the CONNECT reply
// of a restored socket, and the bounds of the in-memory store.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.hpp"
#include "socketio/in_memory_session_store.hpp"
#include "socketio/json_text.hpp"

namespace daheim::testing {
namespace {

using engineio::CloseReason;
using loop::Millis;
using socketio::DisconnectReason;
using socketio::Socket;
using Frames = std::vector<std::string>;

socketio::Options recovery_options() {
  socketio::Options o = fixture_options();
  o.recovery.enabled = true;
  o.recovery.max_disconnection_duration = Millis(2000);
  return o;
}

// The value of "pid" in a CONNECT reply.
std::string pid_of(const std::string& frame) {
  auto at = frame.find("\"pid\":\"");
  if (at == std::string::npos) return {};
  auto begin = at + 7;
  return frame.substr(begin, frame.find('"', begin) - begin);
}

class RecoveryTest : public ::testing::Test {
 protected:
  RecoveryTest() : h(recovery_options()) {}

  socketio::InMemorySessionStore& store() {
    return static_cast<socketio::InMemorySessionStore&>(*h.server.session_store());
  }
  std::string offset(uint64_t seq) { return store().make_offset(seq); }

  // Joins "/" and returns the CONNECT reply.
  std::string connect(Peer& p, std::string_view payload = "") {
    p.send("40" + std::string(payload));
    Frames f = p.take();
    EXPECT_EQ(f.size(), 1u);
    return f.empty() ? std::string() : f.back();
  }

  // Answers pending restores (the store answers on the loop).
  void run_loop() { h.timers.advance(Millis(0)); }

  Harness h;
};

TEST_F(RecoveryTest, ConnectReplyCarriesAPid) {
  auto p = h.open();
  std::string reply = connect(*p);
  std::string sid = sid_of(reply);
  std::string pid = pid_of(reply);
  EXPECT_EQ(reply, R"(40{"sid":")" + sid + R"(","pid":")" + pid + "\"}");
  EXPECT_EQ(pid.size(), 20u);
  EXPECT_NE(pid, sid);
  EXPECT_EQ(Harness::socket_of(*p).pid(), pid);
  EXPECT_FALSE(Harness::socket_of(*p).recovered());
  EXPECT_TRUE(Harness::socket_of(*p).extra_allocated());  // the recovery record
}

TEST_F(RecoveryTest, OffRecoveryKeepsTheSidOnlyReply) {
  Harness plain;
  auto p = plain.open();
  p->send("40");
  Frames f = p->take();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0], R"(40{"sid":")" + sid_of(f[0]) + "\"}");
  EXPECT_EQ(plain.server.session_store(), nullptr);
  EXPECT_FALSE(Harness::socket_of(*p).extra_allocated());  // no recovery record
}

TEST_F(RecoveryTest, EventsWithoutAckCarryAnOffset) {
  auto p = h.open();
  connect(*p);
  Socket& s = Harness::socket_of(*p);
  ASSERT_TRUE(s.emit("hello", "[1]"));
  ASSERT_TRUE(h.server.of("/").emit("all"));
  ASSERT_TRUE(s.emit_volatile("vol", "[2]"));
  ASSERT_TRUE(s.emit_with_ack("ask", "[3]", {}, Millis(1000), [](bool, auto, auto&) {}));
  std::string bin = std::string("[") + std::string(kPh0) + "]";
  std::vector<std::string> attachments{"\x01\x02"};
  ASSERT_TRUE(s.emit("bin", bin, attachments));
  Frames f = p->take();
  ASSERT_EQ(f.size(), 6u);
  EXPECT_EQ(f[0], R"(42["hello",1,")" + offset(1) + "\"]");
  EXPECT_EQ(f[1], R"(42["all",")" + offset(2) + "\"]");
  EXPECT_EQ(f[2], R"(42["vol",2])");
  EXPECT_EQ(f[3], R"(420["ask",3])");
  EXPECT_EQ(f[4], R"(451-["bin",{"_placeholder":true,"num":0},")" + offset(3) + "\"]");
  EXPECT_EQ(f[5], "<bin:\x01\x02>");
  EXPECT_EQ(store().log_size(), 3u);
}

TEST_F(RecoveryTest, OffsetsAreThisStoresOnly) {
  EXPECT_EQ(store().parse_offset(offset(4095)), 4095u);
  EXPECT_EQ(store().parse_offset(offset(0)), 0u);
  EXPECT_FALSE(store().parse_offset("hello"));
  EXPECT_FALSE(store().parse_offset(""));
  EXPECT_FALSE(store().parse_offset(offset(7) + "!"));
  // Another process (store) draws another epoch (1 in 2^24 draws the same).
  socketio::InMemorySessionStore other(h.timers, recovery_options().recovery);
  if (other.make_offset(7) != offset(7)) {
    EXPECT_FALSE(other.parse_offset(offset(7)));
  }
}

// The reference's observed exchange: the missed event, then the CONNECT reply
// with the same sid and pid; rooms and data come back.
TEST_F(RecoveryTest, ReconnectWithinTheWindowRestoresTheSession) {
  auto a = h.open();
  std::string reply = connect(*a);
  std::string sid = sid_of(reply);
  std::string pid = pid_of(reply);
  Socket& s = Harness::socket_of(*a);
  s.join("lesson-1");
  s.data() = R"({"n":1})";
  ASSERT_TRUE(s.emit("first", "[1]"));
  std::string last = offset(1);
  a->take();
  a->conn.close(CloseReason::TransportClose);

  h.server.of("/").emit_to({{"lesson-1"}, {}, {}}, "missed", R"(["while-away"])");
  h.server.of("/").emit_to({{"other"}, {}, {}}, "not-for-it");
  h.server.of("/").emit("everyone");

  auto b = h.open();
  b->send(R"(40{"pid":")" + pid + R"(","offset":")" + last + R"(","token":"t"})");
  EXPECT_TRUE(b->take().empty());  // the store answers on the loop
  run_loop();
  Frames f = b->take();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], R"(42["missed","while-away",")" + offset(2) + "\"]");
  EXPECT_EQ(f[1], R"(42["everyone",")" + offset(4) + "\"]");
  EXPECT_EQ(f[2], R"(40{"sid":")" + sid + R"(","pid":")" + pid + "\"}");
  Socket& r = Harness::socket_of(*b);
  EXPECT_TRUE(r.recovered());
  EXPECT_EQ(r.id(), sid);
  EXPECT_EQ(r.data(), R"({"n":1})");
  EXPECT_EQ(r.rooms(), (std::vector<std::string>{sid, "lesson-1"}));
  EXPECT_EQ(r.auth(), R"({"pid":")" + pid + R"(","offset":")" + last + R"(","token":"t"})");
  EXPECT_EQ(store().session_count(), 0u);

  // Live again: room broadcasts and its own emits reach it.
  h.server.of("/").emit_to({{"lesson-1"}, {}, {}}, "live");
  EXPECT_EQ(b->take(), Frames{R"(42["live",")" + offset(5) + "\"]"});
}

TEST_F(RecoveryTest, NoOffsetMeansEverythingSinceTheSocketConnected) {
  h.server.of("/").emit("before");  // logged before the socket existed
  auto a = h.open();
  std::string reply = connect(*a);
  a->conn.close(CloseReason::PingTimeout);
  h.server.of("/").emit("after");
  auto b = h.open();
  b->send(R"(40{"pid":")" + pid_of(reply) + "\"}");
  run_loop();
  Frames f = b->take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], R"(42["after",")" + offset(2) + "\"]");
  EXPECT_EQ(sid_of(f[1]), sid_of(reply));
}

// socket.io PR #5539: the client takes a volatile event's last string
// argument for its offset. The session knows which string that was and what
// the client had been sent before it.
TEST_F(RecoveryTest, AVolatileStringTakenForAnOffsetStillRecovers) {
  auto a = h.open();
  std::string reply = connect(*a);
  Socket& s = Harness::socket_of(*a);
  ASSERT_TRUE(s.emit("a"));  // offset 1
  ASSERT_TRUE(h.server.of("/").emit_to({{}, {}, {true, false}}, "v", R"([1,"he\"llo"])"));
  EXPECT_EQ(a->take(), (Frames{R"(42["a",")" + offset(1) + "\"]", R"(42["v",1,"he\"llo"])"}));
  a->conn.close(CloseReason::TransportClose);
  h.server.of("/").emit("b");  // offset 2
  auto b = h.open();
  b->send(R"(40{"pid":")" + pid_of(reply) + R"(","offset":"he\"llo"})");
  run_loop();
  Frames f = b->take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], R"(42["b",")" + offset(2) + "\"]");
  EXPECT_EQ(sid_of(f[1]), sid_of(reply));
}

TEST_F(RecoveryTest, ALoggedEventAfterTheVolatileOneEndsTheAlias) {
  auto a = h.open();
  std::string reply = connect(*a);
  Socket& s = Harness::socket_of(*a);
  ASSERT_TRUE(s.emit_volatile("v", R"("x")"));
  ASSERT_TRUE(s.emit("a"));  // offset 1: the client's offset now
  a->conn.close(CloseReason::TransportClose);
  auto b = h.open();
  b->send(R"(40{"pid":")" + pid_of(reply) + R"(","offset":"x"})");
  run_loop();
  EXPECT_FALSE(Harness::socket_of(*b).recovered());
}

TEST_F(RecoveryTest, PastTheWindowTheSocketStartsAfresh) {
  auto a = h.open();
  std::string reply = connect(*a);
  a->conn.close(CloseReason::TransportError);
  h.timers.advance(Millis(2001));
  auto b = h.open();
  b->send(R"(40{"pid":")" + pid_of(reply) + R"(","offset":")" + offset(0) + "\"}");
  run_loop();
  Frames f = b->take();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_NE(sid_of(f[0]), sid_of(reply));
  EXPECT_NE(pid_of(f[0]), pid_of(reply));
  EXPECT_FALSE(Harness::socket_of(*b).recovered());
  EXPECT_EQ(store().stats().restore_unknown, 1u);
}

TEST_F(RecoveryTest, DeliberateDisconnectsAreNotRecoverable) {
  auto a = h.open();
  std::string reply = connect(*a);
  a->send("41");  // client namespace disconnect
  auto b = h.open();
  std::string reply_b = connect(*b);
  Harness::socket_of(*b).disconnect();  // server namespace disconnect
  EXPECT_EQ(store().session_count(), 0u);
  auto c = h.open();
  c->send(R"(40{"pid":")" + pid_of(reply) + "\"}");
  run_loop();
  EXPECT_FALSE(Harness::socket_of(*c).recovered());
}

TEST_F(RecoveryTest, AnUnknownOrTrimmedOffsetStartsAfresh) {
  auto a = h.open();
  std::string reply = connect(*a);
  a->conn.close(CloseReason::TransportClose);
  auto b = h.open();
  b->send(R"(40{"pid":")" + pid_of(reply) + R"(","offset":"not-an-offset"})");
  run_loop();
  EXPECT_FALSE(Harness::socket_of(*b).recovered());
  EXPECT_EQ(store().stats().restore_bad_offset, 1u);
  // The failed attempt left the session: a good offset still recovers it.
  auto c = h.open();
  c->send(R"(40{"pid":")" + pid_of(reply) + R"(","offset":")" + offset(0) + "\"}");
  run_loop();
  EXPECT_TRUE(Harness::socket_of(*c).recovered());
}

TEST_F(RecoveryTest, TheLogIsBoundedByCount) {
  Harness small([] {
    socketio::Options o = recovery_options();
    o.recovery.max_log_packets = 2;
    return o;
  }());
  auto& st = static_cast<socketio::InMemorySessionStore&>(*small.server.session_store());
  auto a = small.open();
  a->send("40");
  std::string reply = a->take().back();
  std::string first = st.make_offset(1);
  a->conn.close(CloseReason::TransportClose);
  for (int i = 0; i < 4; ++i) small.server.of("/").emit("e");
  EXPECT_EQ(st.log_size(), 2u);
  EXPECT_EQ(st.stats().log_dropped, 2u);
  // Event 2, after offset 1, was dropped: offset 1 no longer recovers; offset
  // 2 does (3 and 4 are still there).
  auto b = small.open();
  b->send(R"(40{"pid":")" + pid_of(reply) + R"(","offset":")" + first + "\"}");
  small.timers.advance(Millis(0));
  EXPECT_FALSE(Harness::socket_of(*b).recovered());
  auto c = small.open();
  c->send(R"(40{"pid":")" + pid_of(reply) + R"(","offset":")" + st.make_offset(2) + "\"}");
  small.timers.advance(Millis(0));
  Frames f = c->take();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], R"(42["e",")" + st.make_offset(3) + "\"]");
  EXPECT_EQ(f[1], R"(42["e",")" + st.make_offset(4) + "\"]");
  EXPECT_EQ(sid_of(f[2]), sid_of(reply));
}

TEST_F(RecoveryTest, TheLogIsBoundedByMemory) {
  Harness small([] {
    socketio::Options o = recovery_options();
    o.recovery.max_log_bytes = 1024;
    return o;
  }());
  auto& st = static_cast<socketio::InMemorySessionStore&>(*small.server.session_store());
  for (int i = 0; i < 50; ++i)
    small.server.of("/").emit("e", R"(["some forty bytes of payload........"])");
  EXPECT_LE(st.log_bytes(), 1024u);
  EXPECT_GT(st.log_size(), 0u);
  EXPECT_LT(st.log_size(), 10u);  // well over 100 bytes each
  EXPECT_EQ(st.log_size() + st.stats().log_dropped, 50u);
}

TEST_F(RecoveryTest, TheLogIsBoundedByAge) {
  h.server.of("/").emit("old");
  h.timers.advance(Millis(2001));
  h.server.of("/").emit("new");
  EXPECT_EQ(store().log_size(), 1u);
  EXPECT_EQ(store().stats().log_dropped, 1u);
}

TEST_F(RecoveryTest, SessionsAreBoundedByCount) {
  Harness small([] {
    socketio::Options o = recovery_options();
    o.recovery.max_sessions = 1;
    return o;
  }());
  auto& st = static_cast<socketio::InMemorySessionStore&>(*small.server.session_store());
  auto a = small.open();
  a->send("40");
  auto b = small.open();
  b->send("40");
  a->conn.close(CloseReason::TransportClose);
  b->conn.close(CloseReason::TransportClose);
  EXPECT_EQ(st.session_count(), 1u);
  EXPECT_EQ(st.stats().evicted, 1u);
}

// socket.io #4880: the old transport died unnoticed; its socket goes first
// (saving its session), and its late close cannot touch the restored one.
TEST_F(RecoveryTest, ALiveSocketWithThatPidLeavesFirst) {
  auto a = h.open();
  std::string reply = connect(*a);
  Harness::socket_of(*a).join("r");
  auto b = h.open();
  b->send(R"(40{"pid":")" + pid_of(reply) + R"(","offset":")" + offset(0) + "\"}");
  EXPECT_EQ(a->conn.closed, CloseReason::TransportClose);
  run_loop();
  Frames f = b->take();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(sid_of(f[0]), sid_of(reply));
  Socket& r = Harness::socket_of(*b);
  EXPECT_TRUE(r.recovered());
  EXPECT_EQ(r.rooms(), (std::vector<std::string>{sid_of(reply), "r"}));
  a.reset();  // the dead session is destroyed
  EXPECT_TRUE(r.connected());
  EXPECT_EQ(h.server.of("/").socket(sid_of(reply)), &r);
}

TEST_F(RecoveryTest, TwoAttemptsWithOnePidRecoverOnce) {
  auto a = h.open();
  std::string reply = connect(*a);
  a->conn.close(CloseReason::TransportClose);
  std::string hello = R"(40{"pid":")" + pid_of(reply) + R"(","offset":")" + offset(0) + "\"}";
  auto b = h.open();
  auto c = h.open();
  b->send(hello);
  c->send(hello);
  run_loop();
  EXPECT_TRUE(Harness::socket_of(*b).recovered());
  EXPECT_FALSE(Harness::socket_of(*c).recovered());
  EXPECT_NE(Harness::socket_of(*c).id(), sid_of(reply));
}

// The token is checked again: a refused recovery gets the CONNECT_ERROR and
// nothing of the session, which stays for a later attempt.
TEST_F(RecoveryTest, MiddlewareRunsForARecoveredSocket) {
  h.server.of("/").use([](Socket& s) -> std::optional<socketio::ConnectError> {
    if (socketio::json::string_member(s.auth(), "token") == "ok") return std::nullopt;
    return socketio::ConnectError{"unauthorized", R"({"code":"token_expired"})"};
  });
  auto a = h.open();
  std::string reply = connect(*a, R"({"token":"ok"})");
  a->conn.close(CloseReason::TransportClose);
  h.server.of("/").emit("missed");
  std::string hello = R"(40{"pid":")" + pid_of(reply) + R"(","offset":")" + offset(0) + "\",";
  auto b = h.open();
  b->send(hello + R"("token":"expired"})");
  run_loop();
  EXPECT_EQ(b->take(), Frames{R"(44{"message":"unauthorized","data":{"code":"token_expired"}})"});
  EXPECT_EQ(b->client().socket("/"), nullptr);
  EXPECT_EQ(store().session_count(), 1u);
  auto c = h.open();
  c->send(hello + R"("token":"ok"})");
  run_loop();
  Frames f = c->take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], R"(42["missed",")" + offset(1) + "\"]");
  EXPECT_EQ(sid_of(f[1]), sid_of(reply));
}

// A session goes back to its owner only (the reference would hand it to any
// holder of the pid); another user's attempt is refused and leaves it.
TEST_F(RecoveryTest, ASessionIsRestoredForItsOwnerOnly) {
  auto user = [](const Socket& s) {
    return socketio::json::string_member(s.auth(), "user").value_or("");
  };
  h.server.of("/").set_session_owner(user);
  auto a = h.open();
  std::string reply = connect(*a, R"({"user":"alice"})");
  a->conn.close(CloseReason::TransportClose);
  std::string hello = R"(40{"pid":")" + pid_of(reply) + R"(","offset":")" + offset(0) + "\",";
  auto b = h.open();
  b->send(hello + R"("user":"mallory"})");
  run_loop();
  EXPECT_EQ(b->take(),
            Frames{R"(44{"message":"unauthorized","data":{"code":"session_mismatch"}})"});
  EXPECT_EQ(store().session_count(), 1u);
  auto c = h.open();
  c->send(hello + R"("user":"alice"})");
  run_loop();
  EXPECT_TRUE(Harness::socket_of(*c).recovered());
}

TEST_F(RecoveryTest, AClientGoneBeforeTheAnswerLeavesTheSession) {
  auto a = h.open();
  std::string reply = connect(*a);
  a->conn.close(CloseReason::TransportClose);
  auto b = h.open();
  b->send(R"(40{"pid":")" + pid_of(reply) + R"(","offset":")" + offset(0) + "\"}");
  b.reset();
  run_loop();
  EXPECT_EQ(store().session_count(), 1u);
}

TEST_F(RecoveryTest, ASecondConnectWhileRestoringIsAViolation) {
  auto b = h.open();
  b->send(R"(40{"pid":"x","offset":"y"})");
  b->send("40");
  EXPECT_EQ(b->conn.closed, CloseReason::ForcedClose);
  run_loop();
}

TEST_F(RecoveryTest, PersistHandlersAddToTheSession) {
  h.server.of("/").on_persist(
      [](Socket&, socketio::SavedSession& s) { s.extensions.emplace_back("plugin", "state"); });
  std::string seen;
  h.server.of("/").on_connection([&](Socket& s) {
    if (const std::string* v = s.restored_extension("plugin")) seen = *v;
  });
  auto a = h.open();
  std::string reply = connect(*a);
  a->conn.close(CloseReason::ServerShuttingDown);
  auto b = h.open();
  b->send(R"(40{"pid":")" + pid_of(reply) + "\"}");
  run_loop();
  EXPECT_EQ(seen, "state");
  EXPECT_EQ(Harness::socket_of(*b).restored_extension("plugin"), nullptr);  // handlers ran
}

TEST(JsonLastStringElement, FindsTheLastElementIfAString) {
  using socketio::json::last_string_element;
  EXPECT_EQ(last_string_element(R"([1, {"a":"]"}, "x\"y" ])"), "x\"y");
  EXPECT_EQ(last_string_element(R"(["a",2])"), std::nullopt);
  EXPECT_EQ(last_string_element(R"([])"), std::nullopt);
  EXPECT_EQ(last_string_element(R"("a")"), std::nullopt);
  EXPECT_EQ(socketio::volatile_tail_of(R"( "a")"), socketio::tail_hash("a"));
  EXPECT_EQ(socketio::volatile_tail_of(R"([["a"]])"), 0u);
}

TEST(JsonStringMember, FindsTopLevelStrings) {
  using socketio::json::string_member;
  EXPECT_EQ(string_member(R"({"pid":"a","offset":"b"})", "offset"), "b");
  EXPECT_EQ(string_member(R"( { "x" : {"pid":"no"}, "pid" : "y\u0041" } )", "pid"), "yA");
  EXPECT_EQ(string_member(R"({"pid":1})", "pid"), std::nullopt);
  EXPECT_EQ(string_member(R"({"a":["pid","x"]})", "pid"), std::nullopt);
  EXPECT_EQ(string_member(R"({"pid":"a","pid":"b"})", "pid"), "b");
  EXPECT_EQ(string_member("{}", "pid"), std::nullopt);
}

}  // namespace
}  // namespace daheim::testing
