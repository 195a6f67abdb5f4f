// The presence plugin (plugins/presence) with the SDK's fake host: rooms,
// counts of online users (not sockets) and their coalescing, readiness and
// its grace period, the role rules, the paged list, the configuration; and
// the in-memory store on its own.
#include <gtest/gtest.h>
#include <daheim/testing/fake_host.hpp>

#include <algorithm>
#include <chrono>
#include <string>
#include <vector>

#include "config.hpp"
#include "presence_store.hpp"

namespace {

using dhl::Json;
using dhl::testing::FakeHost;
using dhl::testing::FakeSocket;
using namespace std::chrono_literals;

// Fast intervals, no coalescing, 1 s grace: each test sets what it needs.
constexpr const char* kConfig = R"({"onlineInterval":0,"readyUsersInterval":0,"readyGrace":1000})";

FakeSocket user(const std::string& id, const std::string& role) {
  FakeSocket s;
  s.user_id = id;
  s.claims = Json::object({{"sub", id}, {"role", role}}).dump();
  return s;
}

// The events named `event` a socket received (their first arguments), and
// forgets everything it received.
std::vector<Json> take(FakeSocket& s, std::string_view event) {
  std::vector<Json> out;
  for (const auto& e : s.received)
    if (e.event == event) out.push_back(e.args[0]);
  s.received.clear();
  return out;
}

Json counts(int64_t teachers, int64_t students) {
  return Json::object({{"teachers", teachers}, {"students", students}});
}

Json ready_args(bool ready, Json topic = Json()) {
  Json a = Json::object({{"ready", ready}});
  if (!topic.is_null()) a["topic"] = std::move(topic);
  return Json::array({a});
}

TEST(Presence, JoinsRoomsByRole) {
  FakeHost host(dhl_plugin_v1(), kConfig);
  ASSERT_TRUE(host.ok());
  FakeSocket& t = host.connect(user("t1", "teacher"));
  FakeSocket& s = host.connect(user("s1", "student"));
  FakeSocket& o = host.connect(user("o1", "admin"));
  FakeSocket& anon = host.connect();
  EXPECT_TRUE(t.rooms.contains("authenticated") && t.rooms.contains("user-t1") &&
              t.rooms.contains("teachers") && !t.rooms.contains("students"));
  EXPECT_TRUE(s.rooms.contains("authenticated") && s.rooms.contains("user-s1") &&
              s.rooms.contains("students") && !s.rooms.contains("teachers"));
  EXPECT_TRUE(o.rooms.contains("authenticated") && o.rooms.contains("user-o1"));
  EXPECT_EQ(o.rooms.size(), 3u);  // its id too
  EXPECT_EQ(anon.rooms, std::set<std::string>{anon.id});
  EXPECT_TRUE(anon.received.empty());
}

TEST(Presence, CountsUsersNotSockets) {
  FakeHost host(dhl_plugin_v1(), kConfig);
  FakeSocket& t = host.connect(user("t1", "teacher"));
  EXPECT_EQ(take(t, "online"), std::vector<Json>{counts(1, 0)});
  FakeSocket& s1 = host.connect(user("s1", "student"));
  EXPECT_EQ(take(t, "online"), std::vector<Json>{counts(1, 1)});
  EXPECT_EQ(take(s1, "online"), std::vector<Json>{counts(1, 1)});
  // A second tab: no broadcast, but the tab itself learns the counts.
  FakeSocket& s1b = host.connect(user("s1", "student"));
  EXPECT_TRUE(take(t, "online").empty());
  EXPECT_EQ(take(s1b, "online"), std::vector<Json>{counts(1, 1)});
  host.disconnect(s1);
  EXPECT_TRUE(take(t, "online").empty());
  host.disconnect(s1b);
  EXPECT_EQ(take(t, "online"), std::vector<Json>{counts(1, 0)});
  // Users without a counted role are online but counted nowhere.
  FakeSocket& o = host.connect(user("o1", "admin"));
  EXPECT_TRUE(take(t, "online").empty());
  EXPECT_EQ(take(o, "online"), std::vector<Json>{counts(1, 0)});
}

TEST(Presence, CoalescesOnlineBroadcasts) {
  FakeHost host(dhl_plugin_v1(), R"({"onlineInterval":100})");
  FakeSocket& t = host.connect(user("t1", "teacher"));
  EXPECT_EQ(take(t, "online"), std::vector<Json>{counts(1, 0)});  // the first goes at once
  host.advance(10ms);
  for (int i = 0; i < 5; ++i) host.connect(user("s" + std::to_string(i), "student"));
  EXPECT_TRUE(take(t, "online").empty());
  host.advance(89ms);
  EXPECT_TRUE(take(t, "online").empty());
  host.advance(1ms);
  EXPECT_EQ(take(t, "online"), std::vector<Json>{counts(1, 5)});
  // A change that is undone within the interval sends nothing.
  host.advance(10ms);
  FakeSocket& x = host.connect(user("x", "student"));
  host.disconnect(x);
  host.advance(200ms);
  EXPECT_TRUE(take(t, "online").empty());
  // After a quiet interval the next change goes out at once.
  host.connect(user("y", "student"));
  EXPECT_EQ(take(t, "online"), std::vector<Json>{counts(1, 6)});
}

TEST(Presence, ReadyNotifiesTheUserAndTheTeachers) {
  FakeHost host(dhl_plugin_v1(), kConfig);
  FakeSocket& t = host.connect(user("t1", "teacher"));
  EXPECT_EQ(take(t, "readyUsers"), std::vector<Json>{Json::array()});  // on connect
  FakeSocket& s = host.connect(user("s1", "student"));
  FakeSocket& s2 = host.connect(user("s1", "student"));
  FakeSocket& other = host.connect(user("s2", "student"));
  EXPECT_TRUE(take(s, "readyUsers").empty());  // students do not get the list
  take(s2, "");
  take(other, "");

  EXPECT_EQ(s.session_changes, 0);
  auto r = host.call(s, "ready", ready_args(true, "Reisen"));
  EXPECT_EQ(r->value(), Json::object());
  EXPECT_EQ(s.session_changes, 1);  // the flag it keeps with its session (ABI 1.4)
  Json topic = Json::object({{"topic", "Reisen"}});
  EXPECT_EQ(take(s, "userIsReady"), std::vector<Json>{topic});
  EXPECT_EQ(take(s2, "userIsReady"), std::vector<Json>{topic});
  EXPECT_TRUE(other.received.empty());
  Json list = Json::array({Json::object({{"id", "s1"}, {"topic", "Reisen"}})});
  EXPECT_EQ(take(t, "readyUsers"), std::vector<Json>{list});

  // The same again changes nothing; a new topic is announced.
  host.call(s, "ready", ready_args(true, "Reisen"));
  EXPECT_TRUE(s.received.empty() && t.received.empty());
  host.call(s2, "ready", ready_args(true, Json::object({{"title", "Kochen"}})));
  EXPECT_EQ(take(s, "userIsReady").at(0)["topic"]["title"].as_string(), "Kochen");

  // A second ready student queues behind the first.
  host.call(other, "ready", ready_args(true));
  auto lists = take(t, "readyUsers");
  ASSERT_EQ(lists.size(), 2u);
  EXPECT_EQ(
      lists[1],
      Json::array({Json::object({{"id", "s1"}, {"topic", Json::object({{"title", "Kochen"}})}}),
                   Json::object({{"id", "s2"}, {"topic", nullptr}})}));

  // A new tab of a ready user is told; a new teacher gets the list.
  FakeSocket& s3 = host.connect(user("s1", "student"));
  EXPECT_EQ(take(s3, "userIsReady").size(), 1u);
  FakeSocket& t2 = host.connect(user("t2", "teacher"));
  EXPECT_EQ(take(t2, "readyUsers").at(0).size(), 2u);

  // Not ready: every tab hears it, the teachers get the shorter list.
  take(s, "");
  take(t, "");
  EXPECT_EQ(host.call(s, "ready", ready_args(false))->value(), Json::object());
  EXPECT_EQ(s.received.size(), 1u);
  EXPECT_EQ(s.received.at(0).event, "userIsNotReady");
  EXPECT_EQ(s3.received.back().event, "userIsNotReady");
  EXPECT_EQ(take(t, "readyUsers"),
            std::vector<Json>{Json::array({Json::object({{"id", "s2"}, {"topic", nullptr}})})});
  // Not ready twice: nothing.
  take(s, "");
  host.call(s, "ready", ready_args(false));
  EXPECT_TRUE(s.received.empty() && t.received.empty());
}

TEST(Presence, ReadyRoleRulesAndBadArguments) {
  FakeHost host(dhl_plugin_v1(), kConfig);
  FakeSocket& t = host.connect(user("t1", "teacher"));
  FakeSocket& o = host.connect(user("o1", "admin"));
  FakeSocket& anon = host.connect();
  FakeSocket& s = host.connect(user("s1", "student"));
  EXPECT_EQ(host.call(t, "ready", ready_args(true))->error(), "forbidden");
  EXPECT_EQ(host.call(o, "ready", ready_args(true))->error(), "forbidden");
  EXPECT_EQ(host.call(anon, "ready", ready_args(true))->error(), "forbidden");
  EXPECT_EQ(host.call(s, "ready", Json::array({"yes"}))->error(), "badRequest");
  EXPECT_EQ(host.call(s, "ready", Json::array({Json::object({{"ready", 1}})}))->error(),
            "badRequest");
  EXPECT_EQ(host.call(s, "ready", ready_args(true, std::string(2000, 'x')))->error(), "badRequest");
  Json bin = Json::binary(std::vector<uint8_t>{1, 2});
  EXPECT_EQ(host.call(s, "ready", ready_args(true, bin))->error(), "badRequest");
  // No arguments at all: not ready.
  EXPECT_EQ(host.call(s, "ready")->value(), Json::object());

  FakeHost teachers(dhl_plugin_v1(), R"({"readyRoles":["teacher","admin"]})");
  FakeSocket& t2 = teachers.connect(user("t1", "teacher"));
  FakeSocket& s2 = teachers.connect(user("s1", "student"));
  EXPECT_EQ(teachers.call(t2, "ready", ready_args(true))->value(), Json::object());
  EXPECT_EQ(teachers.call(s2, "ready", ready_args(true))->error(), "forbidden");
}

TEST(Presence, ReadySurvivesAGracePeriod) {
  FakeHost host(dhl_plugin_v1(), kConfig);
  FakeSocket& t = host.connect(user("t1", "teacher"));
  FakeSocket* s = &host.connect(user("s1", "student"));
  host.call(*s, "ready", ready_args(true, "Musik"));
  take(t, "");

  // Back within the grace period: still ready, told so.
  host.disconnect(*s);
  EXPECT_EQ(take(t, "online"), std::vector<Json>{counts(1, 0)});
  host.advance(999ms);
  EXPECT_TRUE(t.received.empty());
  s = &host.connect(user("s1", "student"));
  EXPECT_EQ(take(*s, "userIsReady"), std::vector<Json>{Json::object({{"topic", "Musik"}})});
  host.advance(5000ms);
  EXPECT_EQ(take(t, "online"), std::vector<Json>{counts(1, 1)});  // no expiry

  // Gone for longer: the flag expires, lists and counts go out again.
  host.disconnect(*s);
  take(t, "");
  host.advance(999ms);
  EXPECT_TRUE(t.received.empty());
  host.advance(1ms);
  ASSERT_EQ(t.received.size(), 2u);
  EXPECT_EQ(take(t, "readyUsers"), std::vector<Json>{Json::array()});
  host.advance(1ms);
  FakeSocket& back = host.connect(user("s1", "student"));
  EXPECT_TRUE(take(back, "userIsReady").empty());

  // A student with two tabs: the grace starts with the last one only.
  host.call(back, "ready", ready_args(true));
  FakeSocket& tab = host.connect(user("s1", "student"));
  host.disconnect(back);
  host.advance(5000ms);
  auto r = host.call(t, "presence.list");
  EXPECT_EQ(r->value()["users"][0]["id"].as_string(), "s1");
  EXPECT_TRUE(r->value()["users"][0]["ready"].as_bool());
  take(t, "");
  host.disconnect(tab);
  host.advance(999ms);
  EXPECT_TRUE(take(t, "readyUsers").empty());
  host.advance(1ms);
  EXPECT_EQ(take(t, "readyUsers"), std::vector<Json>{Json::array()});
  FakeSocket& again = host.connect(user("s1", "student"));
  EXPECT_TRUE(take(again, "userIsReady").empty());
}

TEST(Presence, ListsOnlineUsersInPages) {
  FakeHost host(dhl_plugin_v1(), R"({"listPageSize":2,"listMaxPageSize":3})");
  FakeSocket& t = host.connect(user("t1", "teacher"));
  FakeSocket& s = host.connect(user("s1", "student"));
  host.connect(user("s1", "student"));
  host.connect(user("s2", "student"));
  host.connect(user("o1", "admin"));
  FakeSocket no_role;
  no_role.user_id = "n1";
  no_role.claims = R"({"sub":"n1"})";
  host.connect(no_role);
  host.call(s, "ready", ready_args(true, "Sport"));

  auto page = [&](Json args) {
    return host.call(t, "presence.list", Json::array({args}))->value();
  };
  Json p1 = page(Json::object());
  EXPECT_EQ(p1["total"].as_int(), 5);
  EXPECT_EQ(p1["next"].as_int(), 2);
  EXPECT_EQ(
      p1["users"],
      Json::array(
          {Json::object({{"id", "n1"}, {"role", nullptr}, {"ready", false}, {"topic", nullptr}}),
           Json::object({{"id", "o1"}, {"role", "admin"}, {"ready", false}, {"topic", nullptr}})}));
  Json p2 = page(Json::object({{"offset", 2}, {"limit", 100}}));  // capped at 3
  EXPECT_TRUE(p2["next"].is_null());
  ASSERT_EQ(p2["users"].size(), 3u);
  EXPECT_EQ(p2["users"][0],
            Json::object({{"id", "s1"}, {"role", "student"}, {"ready", true}, {"topic", "Sport"}}));
  EXPECT_EQ(p2["users"][2]["id"].as_string(), "t1");
  EXPECT_EQ(page(Json::object({{"offset", 9}}))["users"].size(), 0u);
  // No arguments: the first page.
  EXPECT_EQ(host.call(t, "presence.list")->value(), p1);
  EXPECT_EQ(page(Json::object({{"offset", -1}}))["error"].as_string(), "badRequest");
  EXPECT_EQ(page(Json::object({{"limit", 0}}))["error"].as_string(), "badRequest");
  EXPECT_EQ(page(Json::object({{"limit", "2"}}))["error"].as_string(), "badRequest");

  FakeSocket& anon = host.connect();
  EXPECT_EQ(host.call(anon, "presence.list")->error(), "forbidden");

  FakeHost only(dhl_plugin_v1(), R"({"listRoles":["teacher"]})");
  FakeSocket& t2 = only.connect(user("t1", "teacher"));
  FakeSocket& s2 = only.connect(user("s1", "student"));
  EXPECT_EQ(only.call(t2, "presence.list")->value()["total"].as_int(), 2);
  EXPECT_EQ(only.call(s2, "presence.list")->error(), "forbidden");
}

TEST(Presence, ConfiguredRoomsAndClaim) {
  FakeHost host(dhl_plugin_v1(),
                R"({"roleClaim":"kind","roleRooms":{"coach":"coaches","learner":"learners"},
                    "authenticatedRoom":"everyone","readyRoles":["learner"],
                    "readyUsersRoom":"coaches","onlineInterval":0})");
  ASSERT_TRUE(host.ok());
  FakeSocket c;
  c.user_id = "c1";
  c.claims = R"({"sub":"c1","kind":"coach","role":"student"})";
  FakeSocket& coach = host.connect(c);
  EXPECT_TRUE(coach.rooms.contains("coaches") && coach.rooms.contains("everyone"));
  EXPECT_EQ(take(coach, "online"),
            std::vector<Json>{Json::object({{"coaches", 1}, {"learners", 0}})});
  FakeSocket l;
  l.user_id = "l1";
  l.claims = R"({"sub":"l1","kind":"learner"})";
  FakeSocket& learner = host.connect(l);
  host.call(learner, "ready", ready_args(true, "x"));
  EXPECT_EQ(take(coach, "readyUsers").size(), 1u);
}

TEST(Presence, OtherNamespacesAreIgnored) {
  FakeHost host(dhl_plugin_v1(), kConfig);
  FakeSocket s = user("s1", "student");
  s.nsp = "/admin";
  FakeSocket& admin = host.connect(s);
  EXPECT_TRUE(admin.received.empty());
  EXPECT_FALSE(admin.rooms.contains("authenticated"));
  EXPECT_EQ(host.call(admin, "ready", ready_args(true))->error(), "forbidden");
}

TEST(Presence, BadConfigFailsTheLoad) {
  for (const char* bad : {R"([1])", R"({"onlineInterval":-1})", R"({"readyGrace":"30s"})",
                          R"({"roleRooms":{"teacher":1}})", R"({"readyRoles":"student"})",
                          R"({"namespace":"admin"})", R"({"listPageSize":2000})"}) {
    FakeHost host(dhl_plugin_v1(), bad);
    EXPECT_FALSE(host.ok()) << bad;
    ASSERT_FALSE(host.logs.empty()) << bad;
    EXPECT_NE(host.logs.back().find("init failed"), std::string::npos) << host.logs.back();
  }
  FakeHost host(dhl_plugin_v1(), R"({"readyGrase":1})");
  EXPECT_TRUE(host.ok());
  ASSERT_EQ(host.logs.size(), 1u);
  EXPECT_NE(host.logs[0].find("unknown config key \"readyGrase\""), std::string::npos);
}

TEST(Config, Defaults) {
  std::string error;
  std::vector<std::string> warnings;
  auto c = presence::parse_config(Json(), error, warnings);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->online_interval_ms, 100u);
  EXPECT_EQ(c->ready_grace_ms, 30000u);
  EXPECT_EQ(*c->room_of("teacher"), "teachers");
  EXPECT_EQ(*c->room_of("student"), "students");
  EXPECT_EQ(c->room_of("admin"), nullptr);
  EXPECT_TRUE(c->ready_roles.contains("student") && c->ready_roles.size() == 1);
  EXPECT_EQ(c->list_page_size, 100u);
  EXPECT_EQ(c->list_max_page_size, 1000u);
  auto small = presence::parse_config(*Json::parse(R"({"listMaxPageSize":10})"), error, warnings);
  ASSERT_TRUE(small);
  EXPECT_EQ(small->list_page_size, 10u);
}

TEST(MemoryStore, ConnectionsReadinessAndExpiry) {
  presence::MemoryPresenceStore store;
  EXPECT_TRUE(store.connect("a", "student", "1").first);
  EXPECT_FALSE(store.connect("a", "student", "2").first);
  EXPECT_TRUE(store.connect("b", "teacher", "3").first);
  EXPECT_EQ(store.online_by_role(),
            (std::map<std::string, std::size_t>{{"student", 1}, {"teacher", 1}}));
  // The latest connection's role counts.
  store.connect("b", "student", "4");
  EXPECT_EQ(store.online_by_role(), (std::map<std::string, std::size_t>{{"student", 2}}));

  EXPECT_TRUE(store.set_ready("a", "t"));
  EXPECT_FALSE(store.set_ready("a", "t"));
  EXPECT_FALSE(store.disconnect("a", "1", 100));
  EXPECT_FALSE(store.disconnect("a", "1", 100));  // unknown socket
  EXPECT_FALSE(store.next_expiry());
  EXPECT_TRUE(store.disconnect("a", "2", 100));
  EXPECT_EQ(store.next_expiry(), 100u);
  EXPECT_EQ(store.ready_users().size(), 1u);
  EXPECT_EQ(store.online_users(0, 10).total, 1u);
  EXPECT_TRUE(store.expire(99).empty());
  auto joined = store.connect("a", "student", "5");
  EXPECT_TRUE(joined.first);
  ASSERT_TRUE(joined.ready);
  EXPECT_EQ(*joined.ready, Json("t"));
  EXPECT_FALSE(store.next_expiry());
  EXPECT_TRUE(store.disconnect("a", "5", 200));
  EXPECT_EQ(store.expire(200), std::vector<std::string>{"a"});
  EXPECT_TRUE(store.ready_users().empty());
  EXPECT_FALSE(store.ready_topic("a"));
  EXPECT_FALSE(store.clear_ready("a"));
}

}  // namespace
