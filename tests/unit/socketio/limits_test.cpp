// Per-socket and per-client limits (Options): events per second, rooms per
// socket, namespaces per client, the CONNECT payload's size. Each with a
// well-behaved neighbour that must not notice.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "harness.hpp"
#include "socketio/in_memory_adapter.hpp"

namespace daheim::testing {
namespace {

using loop::Millis;
using socketio::DisconnectReason;
using socketio::Socket;
using Frames = std::vector<std::string>;

socketio::Options limited() {
  socketio::Options o = fixture_options();
  o.event_rate = {10, 5, 8};  // 10/s, burst 5, disconnect past 8 refused
  o.max_rooms_per_socket = 3;
  o.max_namespaces_per_client = 2;
  o.max_auth_payload = 32;
  return o;
}

class LimitsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    install_fixture(h.server);
    for (const char* nsp : {"/", "/a", "/b"})
      h.server.of(nsp).on_disconnect([this](Socket& s, DisconnectReason r) {
        reasons.push_back(std::string(s.id()) + " " + std::string(to_string(r)));
      });
  }

  Harness h{limited()};
  std::vector<std::string> reasons;
};

TEST_F(LimitsTest, EventsOverTheRateAreAnsweredRateLimited) {
  auto abuser = h.join();
  auto neighbour = h.join();
  for (int i = 0; i < 5; ++i) abuser->send(R"(421["message-with-ack",1])");
  Frames f = abuser->take();
  ASSERT_EQ(f.size(), 5u);
  EXPECT_EQ(f[4], R"(431[1])");
  abuser->send(R"(427["message-with-ack",1])");
  abuser->send(R"(42["message","x"])");  // no ack asked: dropped, nothing sent
  EXPECT_EQ(abuser->take(), (Frames{R"(437[{"error":"rate_limited"}])"}));
  EXPECT_EQ(h.server.stats().events_rate_limited, 2u);
  // The neighbour has its own bucket.
  neighbour->send(R"(429["message-with-ack",2])");
  EXPECT_EQ(neighbour->take(), (Frames{R"(439[2])"}));
  // Refill: 10 per second.
  h.timers.advance(Millis(1000));  // the debt of 2 paid back, 5 (the burst) left
  for (int i = 0; i < 5; ++i) abuser->send(R"(421["message-with-ack",1])");
  EXPECT_EQ(abuser->take(), Frames(5, R"(431[1])"));
  abuser->send(R"(422["message-with-ack",1])");
  EXPECT_EQ(abuser->take(), (Frames{R"(432[{"error":"rate_limited"}])"}));
  EXPECT_TRUE(reasons.empty());
}

TEST_F(LimitsTest, FarOverTheRateTheSocketIsDisconnected) {
  auto abuser = h.join();
  auto neighbour = h.join();
  Socket& s = Harness::socket_of(*abuser);
  std::string id(s.id());
  for (int i = 0; i < 5 + 8; ++i) abuser->send(R"(42["message","x"])");
  EXPECT_EQ(abuser->take().size(), 5u);  // message-back for the first five
  EXPECT_TRUE(reasons.empty());
  abuser->send(R"(423["message-with-ack",1])");  // debt 9 > 8
  EXPECT_EQ(abuser->take(), (Frames{R"(433[{"error":"rate_limited"}])", "41"}));
  EXPECT_EQ(reasons, (std::vector<std::string>{id + " rate limited"}));
  EXPECT_EQ(h.server.stats().rate_limit_disconnects, 1u);
  EXPECT_EQ(h.server.stats().events_rate_limited, 9u);
  EXPECT_FALSE(abuser->conn.closed);  // DISCONNECT: the client does not reconnect on its own
  neighbour->send(R"(42["message","y"])");
  EXPECT_EQ(neighbour->take(), (Frames{R"(42["message-back","y"])"}));
  // What the abuser sent before it read the DISCONNECT is dropped, not a
  // protocol error; its own DISCONNECT ends that, and a packet after it is one.
  for (int i = 0; i < 100; ++i) abuser->send(R"(42["message","x"])");
  EXPECT_FALSE(abuser->conn.closed);
  EXPECT_TRUE(abuser->take().empty());
  abuser->send("41");
  EXPECT_FALSE(abuser->conn.closed);
  abuser->send(R"(42["message","x"])");
  EXPECT_TRUE(abuser->conn.closed);
}

TEST_F(LimitsTest, PacketsAfterTheServersDisconnectAreDroppedUpToABound) {
  auto p = h.join();
  Harness::socket_of(*p).disconnect();
  EXPECT_EQ(p->take(), (Frames{"41"}));
  for (uint32_t i = 0; i < socketio::Client::kMaxAfterDisconnect; ++i)
    p->send(R"(42["message","x"])");
  EXPECT_FALSE(p->conn.closed);
  p->send(R"(42["message","x"])");
  EXPECT_TRUE(p->conn.closed);
}

TEST_F(LimitsTest, NoLimitWhenTheRateIsZero) {
  socketio::Options o = limited();
  o.event_rate.rate = 0;
  Harness free(o);
  install_fixture(free.server);
  auto p = free.join();
  for (int i = 0; i < 1000; ++i) p->send(R"(42["message","x"])");
  EXPECT_EQ(p->take().size(), 1000u);
  EXPECT_EQ(free.server.stats().events_rate_limited, 0u);
}

TEST_F(LimitsTest, RoomsPerSocketAreCapped) {
  auto abuser = h.join();
  auto neighbour = h.join();
  Socket& s = Harness::socket_of(*abuser);
  EXPECT_TRUE(s.join("r1"));
  EXPECT_TRUE(s.join("r2"));
  EXPECT_TRUE(s.join(s.id()));  // its own room is not counted
  EXPECT_TRUE(s.join("r3"));
  EXPECT_FALSE(s.join("r4"));
  EXPECT_TRUE(s.join("r1"));  // already a member
  std::vector<std::string_view> more = {"r2", "r5"};
  EXPECT_FALSE(s.join(more));
  EXPECT_EQ(s.rooms().size(), 4u);  // r1-r3 and its own
  EXPECT_EQ(h.server.stats().rooms_refused, 2u);
  auto& adapter = static_cast<socketio::InMemoryAdapter&>(h.server.of("/").adapter());
  EXPECT_FALSE(adapter.has_room("r4"));  // a refused join leaves no empty room behind
  s.leave("r1");
  EXPECT_TRUE(s.join("r4"));
  // The neighbour joins the same rooms and more.
  Socket& n = Harness::socket_of(*neighbour);
  EXPECT_TRUE(n.join("r4"));
  EXPECT_TRUE(n.join("r5"));
}

TEST_F(LimitsTest, NamespacesPerClientAreCapped) {
  h.server.of("/a");
  h.server.of("/b");
  auto p = h.open();
  p->send("40");
  p->send("40/a,");
  p->take();
  p->send("40/b,");
  EXPECT_EQ(p->take(), (Frames{R"(44/b,{"message":"Too many namespaces"})"}));
  EXPECT_FALSE(p->conn.closed);
  EXPECT_EQ(h.server.stats().namespaces_refused, 1u);
  p->send("41/a,");  // leaving one makes room
  p->send("40/b,");
  Frames f = p->take();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0].rfind("40/b,{\"sid\":", 0), 0u) << f[0];
}

TEST_F(LimitsTest, LargeAuthPayloadsAreRefused) {
  auto p = h.open();
  std::string big = R"({"token":")" + std::string(30, 'x') + "\"}";
  p->send("40" + big);
  EXPECT_EQ(p->take(), (Frames{R"(44{"message":"Auth payload too large"})"}));
  EXPECT_EQ(h.server.stats().auth_payloads_refused, 1u);
  p->send(R"(40{"token":"ok"})");
  Frames f = p->take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1], R"(42["auth",{"token":"ok"}])");
}

}  // namespace
}  // namespace daheim::testing
