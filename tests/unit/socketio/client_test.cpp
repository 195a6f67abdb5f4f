// Client and Namespace behaviour through fake sessions: the socket.io
// conformance suite's cases (reference/conformance.md §2) plus middleware,
// timeouts, disconnect reasons and protocol violations.
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <string>
#include <vector>

#include "harness.hpp"
#include "socketio/client.hpp"

namespace daheim::testing {
namespace {

using engineio::CloseReason;
using loop::Millis;
using socketio::DisconnectReason;
using socketio::Socket;
using Frames = std::vector<std::string>;

// One Client per connection: it fits a 96 B malloc chunk (BENCHMARKS.md
// 10.16; the server counts its clients and no longer lists them, 112 B before).
TEST(ClientSize, FitsA96ByteMallocChunk) {
  void* p = std::malloc(sizeof(socketio::Client));
  ASSERT_NE(p, nullptr);
  // glibc: the usable size is the chunk less its 8 B header.
  std::size_t chunk = malloc_usable_size(p) + 8;
  std::free(p);
  EXPECT_LE(chunk, 96u) << "sizeof(Client) is " << sizeof(socketio::Client);
}

class ClientTest : public ::testing::Test {
 protected:
  void SetUp() override {
    install_fixture(h.server);
    for (const char* nsp : {"/", "/custom"}) {
      h.server.of(nsp).on_disconnect([this](Socket& s, DisconnectReason r) {
        reasons.push_back(std::string(s.nsp().name()) + " " + std::string(to_string(r)));
      });
    }
    peer = h.open();
  }

  Harness h;
  std::vector<std::string> reasons;
  std::unique_ptr<Peer> peer;
};

TEST_F(ClientTest, ConnectsToTheMainNamespace) {
  peer->send("40");
  Frames f = peer->take();
  ASSERT_EQ(f.size(), 2u);
  std::string sid = sid_of(f[0]);
  EXPECT_EQ(f[0], R"(40{"sid":")" + sid + "\"}");
  EXPECT_EQ(sid.size(), 20u);
  EXPECT_NE(sid, peer->conn.id());
  EXPECT_EQ(f[1], R"(42["auth",{}])");
  EXPECT_FALSE(peer->conn.closed);
}

TEST_F(ClientTest, ConnectsWithAPayload) {
  peer->send(R"(40{"token":"123"})");
  Frames f = peer->take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[1], R"(42["auth",{"token":"123"}])");
  EXPECT_EQ(Harness::socket_of(*peer).auth(), R"({"token":"123"})");
}

TEST_F(ClientTest, ConnectsToACustomNamespace) {
  peer->send("40/custom,");
  Frames f = peer->take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0], R"(40/custom,{"sid":")" + sid_of(f[0]) + "\"}");
  EXPECT_EQ(f[1], R"(42/custom,["auth",{}])");
  auto other = h.open();
  other->send(R"(40/custom,{"token":"abc"})");
  EXPECT_EQ(other->take().at(1), R"(42/custom,["auth",{"token":"abc"}])");
}

TEST_F(ClientTest, RefusesAnUnknownNamespaceAndStaysOpen) {
  peer->send("40/random");
  EXPECT_EQ(peer->take(), Frames{R"(44/random,{"message":"Invalid namespace"})"});
  EXPECT_FALSE(peer->conn.closed);
  peer->send("40");
  EXPECT_EQ(peer->take().size(), 2u);
}

TEST_F(ClientTest, GarbageAsFirstPacketCloses) {
  peer->send("4abc");
  EXPECT_EQ(peer->conn.closed, CloseReason::ForcedClose);
  EXPECT_TRUE(peer->take().empty());
}

TEST_F(ClientTest, ClosesWithoutConnectWithinConnectTimeout) {
  h.timers.advance(Millis(999));
  EXPECT_FALSE(peer->conn.closed);
  h.timers.advance(Millis(1));
  EXPECT_EQ(peer->conn.closed, CloseReason::ForcedClose);
}

TEST_F(ClientTest, ConnectTimeoutEndsWithTheFirstJoin) {
  peer->send("40");
  peer->send("41");
  h.timers.advance(Millis(5000));
  EXPECT_FALSE(peer->conn.closed);
  EXPECT_EQ(h.timers.pending(), 0u);
}

TEST_F(ClientTest, ClientDisconnectSendsNothingAndKeepsTheConnection) {
  peer->send("40");
  peer->take();
  peer->send("41");
  EXPECT_TRUE(peer->take().empty());
  EXPECT_FALSE(peer->conn.closed);
  EXPECT_EQ(reasons, Frames{"/ client namespace disconnect"});
  EXPECT_EQ(h.server.of("/").size(), 0u);
  EXPECT_EQ(peer->client().socket_count(), 0u);
}

TEST_F(ClientTest, ConnectThenDisconnectFromACustomNamespace) {
  peer->send("40");
  peer->take();
  peer->send("40/custom");
  Frames f = peer->take();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].rfind("40/custom,{\"sid\":", 0), 0u);
  peer->send("41/custom");
  EXPECT_TRUE(peer->take().empty());
  peer->send(R"(42["message","message to main namespace"])");
  EXPECT_EQ(peer->take(), Frames{R"(42["message-back","message to main namespace"])"});
  EXPECT_EQ(reasons, Frames{"/custom client namespace disconnect"});
}

TEST_F(ClientTest, EchoesAnEventByteForByte) {
  peer->send("40");
  peer->take();
  peer->send(R"(42["message",1,"2",{"3":[true]}])");
  EXPECT_EQ(peer->take(), Frames{R"(42["message-back",1,"2",{"3":[true]}])"});
}

TEST_F(ClientTest, EchoesABinaryEvent) {
  peer->send("40");
  peer->take();
  peer->send(R"(452-["message",)" + std::string(kPh0) + "," + std::string(kPh1) + "]");
  EXPECT_TRUE(peer->take().empty());
  peer->send_binary("\x01\x02\x03");
  EXPECT_TRUE(peer->take().empty());
  peer->send_binary("\x04\x05\x06");
  EXPECT_EQ(
      peer->take(),
      (Frames{R"(452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
              "<bin:\x01\x02\x03>", "<bin:\x04\x05\x06>"}));
}

TEST_F(ClientTest, AnswersAnEventWithAck) {
  peer->send("40");
  peer->take();
  peer->send(R"(42456["message-with-ack",1,"2",{"3":[false]}])");
  EXPECT_EQ(peer->take(), Frames{R"(43456[1,"2",{"3":[false]}])"});
}

TEST_F(ClientTest, AnswersABinaryEventWithAck) {
  peer->send("40");
  peer->take();
  peer->send(R"(452-789["message-with-ack",)" + std::string(kPh0) + "," + std::string(kPh1) + "]");
  peer->send_binary("\x01\x02\x03");
  peer->send_binary("\x04\x05\x06");
  EXPECT_EQ(peer->take(),
            (Frames{R"(462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}])",
                    "<bin:\x01\x02\x03>", "<bin:\x04\x05\x06>"}));
}

TEST_F(ClientTest, MalformedPacketsAfterConnectClose) {
  for (std::string bad : {"4abc", "42{}", R"(42abc["message-with-ack",1,"2",{"3":[false]}])"}) {
    reasons.clear();
    auto p = h.join();
    p->send(bad);
    EXPECT_EQ(p->conn.closed, CloseReason::ForcedClose) << bad;
    EXPECT_TRUE(p->take().empty()) << bad;
    EXPECT_EQ(reasons, Frames{"/ forced close"}) << bad;
  }
}

TEST_F(ClientTest, TextWhileAttachmentsArePendingCloses) {
  peer->send("40");
  peer->send(R"(451-["message",)" + std::string(kPh0) + "]");
  peer->send(R"(42["message"])");
  EXPECT_EQ(peer->conn.closed, CloseReason::ForcedClose);
}

TEST_F(ClientTest, BinaryWithoutPendingPacketCloses) {
  peer->send("40");
  peer->send_binary("\x01");
  EXPECT_EQ(peer->conn.closed, CloseReason::ForcedClose);
  EXPECT_EQ(reasons, Frames{"/ forced close"});
}

TEST_F(ClientTest, TooManyAttachmentsClose) {
  peer->send("40");
  peer->send(R"(411-["message",)" + std::string(kPh0) + "]");
  EXPECT_EQ(peer->conn.closed, CloseReason::ForcedClose);
}

TEST_F(ClientTest, SecondConnectToTheSameNamespaceCloses) {
  peer->send("40");
  peer->send("40");
  EXPECT_EQ(peer->conn.closed, CloseReason::ForcedClose);
  EXPECT_EQ(reasons, Frames{"/ forced server close"});
}

TEST_F(ClientTest, PacketsForANamespaceNotJoinedClose) {
  for (std::string bad :
       {R"(42/custom,["message"])", "41/custom,", R"(43/custom,1[])", R"(42["message"])"}) {
    auto p = h.open();
    if (bad.find("/custom") != std::string::npos) p->send("40");
    p->send(bad);
    EXPECT_EQ(p->conn.closed, CloseReason::ForcedClose) << bad;
  }
}

TEST_F(ClientTest, ConnectErrorFromTheClientCloses) {
  peer->send("40");
  peer->send(R"(44{"message":"x"})");
  EXPECT_EQ(peer->conn.closed, CloseReason::ForcedClose);
}

TEST_F(ClientTest, SocketJoinsTheRoomOfItsOwnId) {
  peer->send("40");
  peer->send("40/custom,");
  Socket& main = Harness::socket_of(*peer, "/");
  Socket& custom = Harness::socket_of(*peer, "/custom");
  EXPECT_NE(main.id(), custom.id());
  EXPECT_EQ(main.rooms(), std::vector<std::string>{std::string(main.id())});
  EXPECT_EQ(h.server.of("/").socket(main.id()), &main);
  EXPECT_EQ(h.server.of("/").socket(custom.id()), nullptr);
  EXPECT_EQ(&main.client(), &peer->client());
}

TEST_F(ClientTest, EventHandlerSeesNameArgsAttachmentsAndAckId) {
  std::vector<std::string> seen;
  h.server.of("/custom").on_event([&](Socket& s, socketio::Event& e) {
    seen.push_back(std::string(s.nsp().name()) + "|" + std::string(e.name) + "|" +
                   std::string(e.args) + "|" + std::to_string(e.attachments.size()) + "|" +
                   (e.ack_id ? std::to_string(*e.ack_id) : "-"));
  });
  peer->send("40/custom,");
  peer->send(R"(42/custom,["a"])");
  peer->send(R"(42/custom,5[7, "x" ])");
  peer->send(R"(451-/custom,9["b",)" + std::string(kPh0) + "]");
  peer->send_binary("bin");
  EXPECT_EQ(seen, (Frames{"/custom|a|[]|0|-", "/custom|7|[ \"x\" ]|0|5",
                          "/custom|b|[" + std::string(kPh0) + "]|1|9"}));
}

TEST_F(ClientTest, MiddlewareRefusesWithData) {
  std::string seen_auth;
  auto& priv = h.server.of("/private");
  priv.use([&](Socket& s) -> std::optional<socketio::ConnectError> {
    seen_auth = std::string(s.auth());
    s.join("early");
    return socketio::ConnectError{"not authorized", R"({"code":401})"};
  });
  bool connected = false;
  priv.on_connection([&](Socket&) { connected = true; });
  peer->send(R"(40/private,{"token":"bad"})");
  EXPECT_EQ(peer->take(), Frames{R"(44/private,{"message":"not authorized","data":{"code":401}})"});
  EXPECT_EQ(seen_auth, R"({"token":"bad"})");
  EXPECT_FALSE(connected);
  EXPECT_FALSE(peer->conn.closed);
  EXPECT_EQ(priv.size(), 0u);
  EXPECT_EQ(peer->client().socket_count(), 0u);
  socketio::BroadcastOptions early;
  early.rooms = {"early"};
  EXPECT_TRUE(priv.fetch_sockets(early).empty());
}

TEST_F(ClientTest, MiddlewareRefusesWithoutData) {
  h.server.of("/").use([](Socket&) -> std::optional<socketio::ConnectError> {
    return socketio::ConnectError{"nope", ""};
  });
  peer->send("40");
  EXPECT_EQ(peer->take(), Frames{R"(44{"message":"nope"})"});
}

TEST_F(ClientTest, MiddlewareChainRunsInOrderAndAdmits) {
  std::vector<int> order;
  auto& nsp = h.server.of("/chain");
  nsp.use([&](Socket& s) -> std::optional<socketio::ConnectError> {
    order.push_back(1);
    s.join("vip");
    return std::nullopt;
  });
  nsp.use([&](Socket& s) -> std::optional<socketio::ConnectError> {
    order.push_back(2);
    EXPECT_FALSE(s.connected());
    EXPECT_EQ(&s.handshake(), &peer->conn.handshake());
    return std::nullopt;
  });
  peer->send("40/chain,");
  EXPECT_EQ(order, (std::vector<int>{1, 2}));
  Frames f = peer->take();
  ASSERT_EQ(f.size(), 1u);
  Socket& s = Harness::socket_of(*peer, "/chain");
  EXPECT_EQ(sid_of(f[0]), s.id());
  EXPECT_EQ(s.rooms(), (std::vector<std::string>{std::string(s.id()), "vip"}));
}

TEST_F(ClientTest, MiddlewareThatClosesTheConnection) {
  h.server.of("/").use([&](Socket& s) -> std::optional<socketio::ConnectError> {
    s.client().close(CloseReason::ForcedClose);
    return std::nullopt;
  });
  peer->send("40");
  EXPECT_TRUE(peer->take().empty());
  EXPECT_EQ(h.server.of("/").size(), 0u);
  EXPECT_TRUE(reasons.empty());
}

TEST_F(ClientTest, ServerDisconnectSendsDisconnect) {
  peer->send("40");
  peer->send("40/custom,");
  peer->take();
  Harness::socket_of(*peer, "/custom").disconnect();
  EXPECT_EQ(peer->take(), Frames{"41/custom,"});
  EXPECT_EQ(reasons, Frames{"/custom server namespace disconnect"});
  EXPECT_FALSE(peer->conn.closed);
  EXPECT_EQ(peer->client().socket_count(), 1u);
}

TEST_F(ClientTest, ServerDisconnectWithCloseClosesTheConnection) {
  peer->send("40");
  peer->send("40/custom,");
  peer->take();
  Harness::socket_of(*peer, "/").disconnect(true);
  EXPECT_EQ(peer->take(), (Frames{"41", "41/custom,"}));
  EXPECT_EQ(reasons,
            (Frames{"/ server namespace disconnect", "/custom server namespace disconnect"}));
  EXPECT_EQ(peer->conn.closed, CloseReason::ForcedClose);
}

TEST_F(ClientTest, DisconnectInsideTheConnectionHandler) {
  h.server.of("/custom").on_connection([](Socket& s) {
    s.disconnect();
    EXPECT_FALSE(s.connected());  // the Socket& stays usable
    EXPECT_FALSE(s.emit("late"));
  });
  peer->send("40/custom,");
  Frames f = peer->take();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[1], R"(42/custom,["auth",{}])");
  EXPECT_EQ(f[2], "41/custom,");
  EXPECT_EQ(h.server.of("/custom").size(), 0u);
}

TEST_F(ClientTest, TransportCloseReasonsReachSockets) {
  const std::pair<CloseReason, const char*> cases[] = {
      {CloseReason::TransportClose, "transport close"},
      {CloseReason::TransportError, "transport error"},
      {CloseReason::PingTimeout, "ping timeout"},
      {CloseReason::ParseError, "parse error"},
      {CloseReason::ForcedClose, "forced close"},
      {CloseReason::ServerShuttingDown, "server shutting down"},
  };
  for (auto [reason, text] : cases) {
    reasons.clear();
    auto p = h.join("/custom");
    p->conn.close(reason);
    EXPECT_EQ(reasons, Frames{std::string("/custom ") + text});
    EXPECT_EQ(p->client().socket_count(), 0u);
  }
  EXPECT_EQ(h.server.of("/custom").size(), 0u);
}

TEST_F(ClientTest, SocketDisconnectCallbacksRunOnceWithTheReason) {
  peer->send("40");
  std::vector<std::string> seen;
  Socket& s = Harness::socket_of(*peer);
  s.on_disconnect([&](Socket& x, DisconnectReason r) {
    seen.push_back(std::string(to_string(r)));
    EXPECT_TRUE(x.rooms().empty());
  });
  peer->conn.close(CloseReason::PingTimeout);
  peer->conn.close(CloseReason::TransportClose);
  EXPECT_EQ(seen, Frames{"ping timeout"});
}

// The transport's shutdown closes every session with ServerShuttingDown.
TEST_F(ClientTest, ShuttingDownClosesWithoutDisconnectPackets) {
  peer->send("40");
  auto other = h.join("/custom");
  peer->take();
  EXPECT_EQ(h.server.client_count(), 2u);
  peer->conn.close(CloseReason::ServerShuttingDown);
  other->conn.close(CloseReason::ServerShuttingDown);
  EXPECT_TRUE(peer->take().empty());
  EXPECT_TRUE(other->take().empty());
  std::sort(reasons.begin(), reasons.end());
  EXPECT_EQ(reasons, (Frames{"/ server shutting down", "/custom server shutting down"}));
}

TEST_F(ClientTest, DestroyingAnOpenClientCleansUp) {
  peer->send("40");
  EXPECT_EQ(h.server.of("/").size(), 1u);
  peer.reset();
  EXPECT_EQ(h.server.of("/").size(), 0u);
  EXPECT_EQ(h.server.client_count(), 0u);
  EXPECT_EQ(reasons, Frames{"/ transport close"});
}

TEST_F(ClientTest, SocketData) {
  peer->send("40");
  Socket& s = Harness::socket_of(*peer);
  s.data() = R"({"user":"u1"})";
  int a = 1, b = 2;
  s.set_slot(7, &a);
  s.set_slot(9, &b);
  EXPECT_EQ(s.slot(7), &a);
  s.set_slot(7, &b);
  EXPECT_EQ(s.slot(7), &b);
  s.set_slot(7, nullptr);
  EXPECT_EQ(s.slot(7), nullptr);
  EXPECT_EQ(s.slot(9), &b);
  EXPECT_EQ(s.data(), R"({"user":"u1"})");
}

TEST_F(ClientTest, NamespacesAreNormalised) {
  EXPECT_EQ(&h.server.of("custom"), &h.server.of("/custom"));
  EXPECT_EQ(h.server.find("custom"), &h.server.of("/custom"));
  EXPECT_EQ(h.server.find("/nope"), nullptr);
  EXPECT_NE(h.server.find("/"), nullptr);
}

TEST_F(ClientTest, MaxAttachmentsIsAnOption) {
  socketio::Options o = fixture_options();
  o.max_attachments = 1;
  Harness small(o);
  auto p = small.join();
  p->send(R"(452-["m",)" + std::string(kPh0) + "," + std::string(kPh1) + "]");
  EXPECT_EQ(p->conn.closed, CloseReason::ForcedClose);
}

}  // namespace
}  // namespace daheim::testing
