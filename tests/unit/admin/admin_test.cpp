// The admin namespace through fake Engine.IO connections: authentication,
// config, stats, development-mode events and commands, frame by frame.
#include "admin/admin.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"

namespace daheim::admin {
namespace {

using daheim::testing::Harness;
using daheim::testing::Peer;
using Frames = std::vector<std::string>;

// bcryptjs.hashSync("secret", "$2b$04$abcdefghijklmnopqrstuu")
constexpr const char* kHash = "$2b$04$abcdefghijklmnopqrstuu2r9OfJnfCsdneAXAGHnS4UpFFP8WIrW";
constexpr int64_t kNow = 1796619626123;  // 2026-12-07T05:00:26.123Z

AdminOptions options(bool development, bool with_auth = true) {
  AdminOptions o;
  o.enabled = true;
  o.development = development;
  o.server_id = "node-a";
  if (with_auth) o.auth = AdminCredentials{"admin", *parse_bcrypt(kHash)};
  return o;
}

class AdminTest : public ::testing::Test {
 protected:
  void start(AdminOptions o) {
    h.server.of("/");
    EngineSampler sampler = [this] { return sample; };
    admin = std::make_unique<Admin>(h.server, std::move(o), sampler, [] { return kNow; });
    admin->start();
  }
  // Opens a client and sends CONNECT for the admin namespace.
  std::unique_ptr<Peer> connect_admin(std::string_view auth) {
    auto p = h.open();
    p->send("40/admin," + std::string(auth));
    return p;
  }
  // Frames that are events named `name` (the rest dropped).
  static Frames events(const Frames& frames, std::string_view name) {
    Frames out;
    std::string prefix = "42/admin,[\"" + std::string(name) + "\",";
    for (const auto& f : frames)
      if (f.rfind(prefix, 0) == 0)
        out.push_back(f.substr(prefix.size(), f.size() - prefix.size() - 1));
    return out;
  }

  Harness h;
  EngineSample sample;
  std::unique_ptr<Admin> admin;
};

TEST_F(AdminTest, WrongPasswordGetsInvalidCredentials) {
  start(options(false));
  auto p = connect_admin(R"({"username":"admin","password":"nope"})");
  EXPECT_EQ(p->take(), Frames{R"(44/admin,{"message":"invalid credentials"})"});
  auto q = connect_admin(R"({"username":"root","password":"secret"})");
  EXPECT_EQ(q->take(), Frames{R"(44/admin,{"message":"invalid credentials"})"});
  auto r = connect_admin(R"({"sessionId":"0123456789abcdef"})");
  EXPECT_EQ(r->take(), Frames{R"(44/admin,{"message":"invalid credentials"})"});
  EXPECT_EQ(admin->stats().refused, 3u);
}

TEST_F(AdminTest, PasswordGivesSessionThenConfigAndTheSessionWorksAgain) {
  start(options(false));
  auto p = connect_admin(R"({"username":"admin","password":"secret"})");
  Frames f = p->take();
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0].rfind("40/admin,{\"sid\":\"", 0), 0u) << f[0];
  ASSERT_EQ(f[1].rfind("42/admin,[\"session\",\"", 0), 0u) << f[1];
  std::string session = f[1].substr(21, 16);
  EXPECT_EQ(f[1], "42/admin,[\"session\",\"" + session + "\"]");
  EXPECT_EQ(session.find_first_not_of("0123456789abcdef"), std::string::npos);
  EXPECT_EQ(f[2], R"(42/admin,["config",{"supportedFeatures":["EMIT","JOIN","LEAVE","DISCONNECT",)"
                  R"("MJOIN","MLEAVE","MDISCONNECT","AGGREGATED_EVENTS"]}])");
  // What another node's fetchSockets would learn of it: no password.
  socketio::RemoteSocket described =
      socketio::describe_socket(*h.server.of("/admin").fetch_sockets().at(0));
  EXPECT_NE(described.handshake_json.find(R"("auth":{})"), std::string::npos);
  EXPECT_EQ(described.handshake_json.find("secret"), std::string::npos);
  auto again = connect_admin(R"({"sessionId":")" + session + "\"}");
  Frames g = again->take();
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(events(g, "config").size(), 1u);
  EXPECT_EQ(admin->stats().logins, 1u);
}

TEST_F(AdminTest, TooManyAttemptsAreRefusedWithoutCheckingThePassword) {
  AdminOptions o = options(false);
  o.logins_per_minute = 2;
  start(o);
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(connect_admin(R"({"username":"admin","password":"x"})")->take(),
              Frames{R"(44/admin,{"message":"invalid credentials"})"});
  EXPECT_EQ(connect_admin(R"({"username":"admin","password":"secret"})")->take(),
            Frames{R"(44/admin,{"message":"too many attempts"})"});
  h.timers.advance(loop::Millis(30000));  // one attempt back
  EXPECT_EQ(
      events(connect_admin(R"({"username":"admin","password":"secret"})")->take(), "config").size(),
      1u);
}

TEST_F(AdminTest, ServerStatsEveryIntervalWithAggregatedEvents) {
  start(options(false, false));
  auto p = connect_admin("");
  p->take();
  sample = {3, 10, 12, 400, 500, 2, 1};
  h.timers.advance(loop::Millis(2000));
  Frames stats = events(p->take(), "server_stats");
  ASSERT_EQ(stats.size(), 1u);
  std::string head = R"({"serverId":"node-a","hostname":")";
  ASSERT_EQ(stats[0].rfind(head, 0), 0u) << stats[0];
  std::string tail =
      R"(,"uptime":2.000,"clientsCount":2,"pollingClientsCount":1,"aggregatedEvents":[)"
      R"({"timestamp":1796619626000,"type":"rawConnection","count":3},)"
      R"({"timestamp":1796619626000,"type":"packetsIn","count":10},)"
      R"({"timestamp":1796619626000,"type":"packetsOut","count":12},)"
      R"({"timestamp":1796619626000,"type":"bytesIn","count":400},)"
      R"({"timestamp":1796619626000,"type":"bytesOut","count":500}],)"
      R"("namespaces":[{"name":"/","socketsCount":0},{"name":"/admin","socketsCount":1}]})";
  EXPECT_EQ(stats[0].substr(stats[0].size() - tail.size()), tail);
  h.timers.advance(loop::Millis(2000));  // nothing new: no aggregated events
  stats = events(p->take(), "server_stats");
  ASSERT_EQ(stats.size(), 1u);
  EXPECT_NE(stats[0].find(R"("aggregatedEvents":[],)"), std::string::npos) << stats[0];
}

TEST_F(AdminTest, DevelopmentModeListsSocketsAndReportsWhatHappens) {
  start(options(true, false));
  auto user = h.join("/");
  socketio::Socket& s = Harness::socket_of(*user);
  std::string id(s.id());
  auto p = connect_admin("");
  Frames f = p->take();
  Frames all = events(f, "all_sockets");
  ASSERT_EQ(all.size(), 1u);
  EXPECT_NE(all[0].find(R"({"id":")" + id + R"(","clientId":")" +
                        std::string(user->conn.id().substr(0, 12)) +
                        R"(","transport":"websocket","nsp":"/")"),
            std::string::npos)
      << all[0];
  EXPECT_NE(all[0].find(R"("rooms":[")" + id + "\"]"), std::string::npos);
  h.timers.advance(loop::Millis(0));  // the connections so far
  f = p->take();
  EXPECT_EQ(events(f, "socket_connected").size(), 2u);  // the user's, then the admin's own
  s.join("room1");
  user->send(R"(42["hello",1])");
  s.emit("reply", R"([{"ok":true}])");
  h.timers.advance(loop::Millis(0));
  f = p->take();
  std::string date = R"("2026-12-07T05:00:26.123Z")";
  EXPECT_EQ(events(f, "room_joined"), Frames{R"("/","room1",")" + id + "\"," + date});
  EXPECT_EQ(events(f, "event_received"), Frames{R"("/",")" + id + R"(",["hello",1],)" + date});
  EXPECT_EQ(events(f, "event_sent"),
            Frames{R"("/",")" + id + R"(",["reply",{"ok":true}],)" + date});
  user->send("41");
  h.timers.advance(loop::Millis(0));
  f = p->take();
  EXPECT_EQ(events(f, "socket_disconnected"),
            Frames{R"("/",")" + id + R"(","client namespace disconnect",)" + date});
  EXPECT_EQ(events(f, "room_left").size(), 2u);  // room1 and its own room
}

TEST_F(AdminTest, CommandsReachTheFilteredSockets) {
  start(options(false, false));
  auto a = h.join("/");
  auto b = h.join("/");
  std::string id_a(Harness::socket_of(*a).id());
  auto p = connect_admin("");
  p->take();
  p->send(R"(42/admin,["join","/","vip",")" + id_a + R"("])");
  EXPECT_EQ(Harness::socket_of(*a).rooms().size(), 2u);
  EXPECT_EQ(Harness::socket_of(*b).rooms().size(), 1u);
  p->send(R"(42/admin,["emit","/","vip","news",{"n":1}])");
  EXPECT_EQ(a->take(), Frames{R"(42["news",{"n":1}])"});
  EXPECT_EQ(b->take(), Frames{});
  p->send(R"(42/admin,["emit","/",null,"all"])");
  EXPECT_EQ(a->take(), Frames{R"(42["all"])"});
  EXPECT_EQ(b->take(), Frames{R"(42["all"])"});
  p->send(R"(42/admin,["leave","/","vip"])");
  EXPECT_EQ(Harness::socket_of(*a).rooms().size(), 1u);
  p->send(R"(42/admin,["_disconnect","/",false,")" + id_a + R"("])");
  EXPECT_EQ(a->take(), Frames{"41"});
  EXPECT_EQ(b->take(), Frames{});
  p->send(R"(42/admin,["_disconnect","/nowhere",false])");
  p->send(R"(42/admin,["emit"])");
  EXPECT_EQ(admin->stats().commands, 5u);
  EXPECT_EQ(admin->stats().bad_commands, 2u);
}

TEST_F(AdminTest, ReadonlyOffersNoCommandsAndIgnoresThem) {
  AdminOptions o = options(false, false);
  o.readonly = true;
  start(o);
  auto a = h.join("/");
  auto p = connect_admin("");
  EXPECT_EQ(events(p->take(), "config"), Frames{R"({"supportedFeatures":["AGGREGATED_EVENTS"]})"});
  p->send(R"(42/admin,["_disconnect","/",false])");
  EXPECT_EQ(a->take(), Frames{});
  EXPECT_EQ(admin->stats().bad_commands, 1u);
}

}  // namespace
}  // namespace daheim::admin
