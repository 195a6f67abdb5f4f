// Socket.IO protocol 4 clients (socket.io-client 2.x over Engine.IO 3) with
// exact packets: connected to "/" unasked, CONNECT answered without payload,
// auth from the namespace's query, ids from the Engine.IO sid, refusals as
// the error's data or its message as a JSON string.
#include "socketio/protocol_v4.hpp"

#include <gtest/gtest.h>

#include "harness.hpp"

namespace daheim::testing {
namespace {

using loop::Millis;
using Frames = std::vector<std::string>;

std::unique_ptr<Peer> open_v3(Harness& h) {
  auto p = std::make_unique<Peer>(h.timers);
  p->conn.handshake_ = engineio::Handshake("", "", {}, {{"EIO", "3"}, {"transport", "polling"}});
  p->handler = h.server.make_client(p->conn);
  p->conn.handler = p->handler.get();
  return p;
}

TEST(ProtocolV4, ParsesTheNamespaceQueryAsAuth) {
  auto t = socketio::v4::parse_connect_nsp("/admin?token=abc&x=1+2%20%C3%A9&flag&=v&bad=%zz");
  EXPECT_EQ(t.name, "/admin");
  EXPECT_EQ(t.auth_json, R"({"token":"abc","x":"1 2 é","flag":"","":"v","bad":"%zz"})");
  t = socketio::v4::parse_connect_nsp("/admin");
  EXPECT_EQ(t.name, "/admin");
  EXPECT_EQ(t.auth_json, "{}");
  t = socketio::v4::parse_connect_nsp("/?q=%22");
  EXPECT_EQ(t.name, "/");
  EXPECT_EQ(t.auth_json, R"({"q":"\""})");
}

TEST(ProtocolV4, EncodesConnectAndRefusals) {
  EXPECT_EQ(socketio::v4::encode_connect("/").text->body(), "40");
  EXPECT_EQ(socketio::v4::encode_connect("/admin").text->body(), "40/admin,");
  EXPECT_EQ(socketio::v4::encode_connect_error("/", "Not authorized").text->body(),
            R"(44"Not authorized")");
  EXPECT_EQ(socketio::v4::encode_connect_error("/x", "m", R"({"code":1})").text->body(),
            R"(44/x,{"code":1})");
  EXPECT_EQ(socketio::v4::socket_id("/", "abc"), "abc");
  EXPECT_EQ(socketio::v4::socket_id("/admin", "abc"), "/admin#abc");
}

TEST(ProtocolV4, TheMainNamespaceIsJoinedUnasked) {
  Harness h;
  auto p = open_v3(h);
  EXPECT_TRUE(p->client().legacy());
  EXPECT_EQ(p->take(), Frames{});  // not before the session is open
  h.timers.advance(Millis(0));
  EXPECT_EQ(p->take(), Frames{"40"});
  EXPECT_EQ(Harness::socket_of(*p).id(), p->conn.id());
  EXPECT_EQ(Harness::socket_of(*p).auth(), "{}");
  // No connect timeout for it, and a second CONNECT to "/" is a violation.
  h.timers.advance(Millis(5000));
  EXPECT_FALSE(p->conn.closed.has_value());
  p->send("40");
  EXPECT_TRUE(p->conn.closed.has_value());
}

TEST(ProtocolV4, OtherNamespacesTakeTheirAuthFromTheQuery) {
  Harness h;
  h.server.of("/custom");
  auto p = open_v3(h);
  h.timers.advance(Millis(0));
  p->take();
  p->send("40/custom?token=abc,");
  EXPECT_EQ(p->take(), Frames{"40/custom,"});
  socketio::Socket& s = Harness::socket_of(*p, "/custom");
  EXPECT_EQ(s.id(), "/custom#" + std::string(p->conn.id()));
  EXPECT_EQ(s.auth(), R"({"token":"abc"})");
  // The long id lives behind the socket's extra pointer; "/"'s id is inline.
  EXPECT_TRUE(s.extra_allocated());
  EXPECT_FALSE(Harness::socket_of(*p).extra_allocated());
  EXPECT_TRUE(s.join("r"));
  EXPECT_EQ(s.rooms(), (std::vector<std::string>{s.id().data(), "r"}));
  p->send("40/nope,");
  EXPECT_EQ(p->take(), Frames{R"(44/nope,"Invalid namespace")"});
}

TEST(ProtocolV4, RefusalsCarryDataOrTheMessageAsAString) {
  Harness h;
  h.server.of("/").use([](socketio::Socket&) -> std::optional<socketio::ConnectError> {
    return socketio::ConnectError{"unauthorized", R"({"code":"invalid_token"})"};
  });
  h.server.of("/plain").use([](socketio::Socket&) -> std::optional<socketio::ConnectError> {
    return socketio::ConnectError{"Not authorized", ""};
  });
  auto p = open_v3(h);
  h.timers.advance(Millis(0));
  EXPECT_EQ(p->take(), Frames{R"(44{"code":"invalid_token"})"});
  p->send("40/plain,");
  EXPECT_EQ(p->take(), Frames{R"(44/plain,"Not authorized")"});
}

TEST(ProtocolV4, Protocol5ClientsAreUnchanged) {
  Harness h;
  auto p = h.open();
  EXPECT_FALSE(p->client().legacy());
  h.timers.advance(Millis(0));
  EXPECT_EQ(p->take(), Frames{});
  p->send("40");
  Frames f = p->take();
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0], R"(40{"sid":")" + std::string(Harness::socket_of(*p).id()) + R"("})");
  EXPECT_FALSE(Harness::socket_of(*p).extra_allocated());  // no long id, no recovery
}

}  // namespace
}  // namespace daheim::testing
