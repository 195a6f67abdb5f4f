// RedisClient against a real redis-server started by each test.
#include "cluster/redis_client.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <optional>

#include "poll_loop.hpp"
#include "redis_server.hpp"

namespace daheim::cluster {
namespace {

using testing::PollLoop;
using testing::RedisServer;
using Millis = loop::Millis;

struct Received {
  RedisClient::Kind kind;
  std::string channel, pattern, payload;
};

RedisClientOptions options_for(const std::string& url) {
  RedisAddress address;
  EXPECT_EQ(parse_redis_url(url, address), "");
  RedisClientOptions o;
  EXPECT_EQ(resolve_endpoint(address, o.endpoint), "");
  o.reconnect_min = Millis(20);
  o.reconnect_max = Millis(200);
  return o;
}

std::string tcp_url(const RedisServer& s, std::string_view tail = "") {
  return "redis://127.0.0.1:" + std::to_string(s.port()) + std::string(tail);
}

struct Fixture {
  PollLoop loop;
  std::unique_ptr<RedisClient> client;
  std::vector<Received> got;
  explicit Fixture(const std::string& url) {
    client = std::make_unique<RedisClient>(loop, loop, options_for(url));
    client->set_message_handler([this](RedisClient::Kind k, std::string_view ch,
                                       std::string_view pat, std::string_view payload) {
      got.push_back({k, std::string(ch), std::string(pat), std::string(payload)});
    });
  }
  // Runs a command and waits for its reply, returned as text (or "ERR:...",
  // an integer as decimal, nil as "(nil)").
  std::string call(std::vector<std::string_view> args) {
    std::optional<std::string> out;
    bool sent = client->command(args, [&](const redisReply* r) {
      if (r == nullptr)
        out = "(lost)";
      else if (r->type == REDIS_REPLY_INTEGER)
        out = std::to_string(r->integer);
      else if (r->type == REDIS_REPLY_NIL)
        out = "(nil)";
      else if (r->type == REDIS_REPLY_ERROR)
        out = "ERR:" + std::string(r->str, r->len);
      else if (r->type == REDIS_REPLY_ARRAY)
        out = "(array " + std::to_string(r->elements) + ")";
      else
        out = std::string(r->str, r->len);
    });
    if (!sent) return "(not sent)";
    loop.run_until([&] { return out.has_value(); });
    return out.value_or("(timeout)");
  }
};

TEST(RedisClient, PublishesAndReceivesOnChannelsPatternsAndShardChannels) {
  RedisServer server;
  Fixture f(tcp_url(server));
  f.client->subscribe(RedisClient::Kind::Channel, "plain");
  f.client->subscribe(RedisClient::Kind::Pattern, "socket.io#/#*");
  f.client->subscribe(RedisClient::Kind::Shard, "shard#1");
  f.client->start();
  ASSERT_TRUE(f.loop.run_until([&] { return f.client->connected(); }));
  // The subscriptions are confirmed once NUMSUB counts them.
  ASSERT_TRUE(f.loop.run_until([&] {
    return f.call({"PUBSUB", "NUMPAT"}) == "1" &&
           f.call({"PUBSUB", "SHARDNUMSUB", "shard#1"}) == "(array 2)";
  }));
  f.client->publish("plain", "one");
  f.client->publish("socket.io#/#room1#", std::string_view("\x93\x00\xff", 3));
  f.client->publish("shard#1", "three", true);
  ASSERT_TRUE(f.loop.run_until([&] { return f.got.size() == 3; }));
  EXPECT_EQ(f.got[0].kind, RedisClient::Kind::Channel);
  EXPECT_EQ(f.got[0].channel, "plain");
  EXPECT_EQ(f.got[0].payload, "one");
  EXPECT_EQ(f.got[1].kind, RedisClient::Kind::Pattern);
  EXPECT_EQ(f.got[1].pattern, "socket.io#/#*");
  EXPECT_EQ(f.got[1].channel, "socket.io#/#room1#");
  EXPECT_EQ(f.got[1].payload, std::string_view("\x93\x00\xff", 3));
  EXPECT_EQ(f.got[2].kind, RedisClient::Kind::Shard);
  EXPECT_EQ(f.got[2].payload, "three");
  EXPECT_EQ(f.client->stats().published, 3u);
  EXPECT_EQ(f.client->stats().received, 3u);
  EXPECT_EQ(f.client->subscriptions(), 3u);
}

TEST(RedisClient, UnsubscribeStopsDelivery) {
  RedisServer server;
  Fixture f(tcp_url(server));
  f.client->subscribe(RedisClient::Kind::Channel, "a");
  f.client->start();
  ASSERT_TRUE(f.loop.run_until([&] {
    return f.call({"PUBSUB", "NUMSUB", "a"}) == "(array 2)" && f.client->connected();
  }));
  f.client->unsubscribe(RedisClient::Kind::Channel, "a");
  f.client->subscribe(RedisClient::Kind::Channel, "b");
  // Once b delivers, the UNSUBSCRIBE a sent before SUBSCRIBE b on the same
  // connection is in effect too.
  ASSERT_TRUE(f.loop.run_until([&] {
    f.client->publish("b", "before");
    f.loop.run_for(Millis(20));
    return !f.got.empty();
  }));
  f.client->publish("a", "lost");
  f.client->publish("b", "after");
  ASSERT_TRUE(f.loop.run_until([&] { return f.got.back().payload == "after"; }));
  for (const Received& r : f.got) EXPECT_NE(r.payload, "lost");
}

TEST(RedisClient, LogsInWithPasswordAndSelectsTheDatabase) {
  RedisServer server({"--requirepass", "s3cret"});
  Fixture f(tcp_url(server, "/3"));
  RedisClientOptions o = options_for(tcp_url(server, "/3"));
  o.endpoint.address.password = "s3cret";
  f.client = std::make_unique<RedisClient>(f.loop, f.loop, o);
  f.client->start();
  ASSERT_TRUE(f.loop.run_until([&] { return f.client->connected(); }));
  EXPECT_EQ(f.call({"SET", "k", "v"}), "OK");
  std::string info = f.call({"CLIENT", "INFO"});
  EXPECT_NE(info.find(" db=3 "), std::string::npos) << info;
}

TEST(RedisClient, WrongPasswordNeverConnectsAndKeepsRetrying) {
  RedisServer server({"--requirepass", "s3cret"});
  RedisClientOptions o = options_for(tcp_url(server));
  o.endpoint.address.password = "wrong";
  PollLoop loop;
  RedisClient client(loop, loop, o);
  client.start();
  ASSERT_TRUE(loop.run_until([&] { return client.stats().reconnects >= 4; }));
  EXPECT_FALSE(client.connected());
}

TEST(RedisClient, UnixSocket) {
  RedisServer server({"--unixsocketperm", "700"});
  Fixture f("unix://" + server.unix_path() + "?db=2");
  f.client->start();
  ASSERT_TRUE(f.loop.run_until([&] { return f.client->connected(); }));
  std::string info = f.call({"CLIENT", "INFO"});
  EXPECT_NE(info.find(" db=2 "), std::string::npos) << info;
}

TEST(RedisClient, RedisDownAtStartBuffersBoundedlyThenDelivers) {
  int port = testing::free_port();
  PollLoop loop;
  RedisClientOptions o = options_for("redis://127.0.0.1:" + std::to_string(port));
  o.publish_buffer_bytes = 100;
  RedisClient client(loop, loop, o);
  std::vector<std::string> got;
  client.set_message_handler([&](RedisClient::Kind, std::string_view, std::string_view,
                                 std::string_view p) { got.emplace_back(p); });
  std::vector<bool> states;
  client.set_state_handler([&](bool up) { states.push_back(up); });
  client.subscribe(RedisClient::Kind::Channel, "ch");
  client.start();
  loop.run_for(Millis(100));
  EXPECT_FALSE(client.connected());
  client.publish("ch", std::string(40, 'a'));
  client.publish("ch", std::string(40, 'b'));
  client.publish("ch", std::string(40, 'c'));  // 3 * 42 > 100: dropped, counted
  EXPECT_EQ(client.stats().publish_dropped, 1u);
  EXPECT_EQ(client.buffered_publishes(), 2u);
  RedisServer server({}, port);
  ASSERT_TRUE(loop.run_until([&] { return client.connected(); }));
  EXPECT_EQ(states, std::vector<bool>{true});
  // The buffered publishes may go out before the subscription is active;
  // what is published now surely arrives.
  ASSERT_TRUE(loop.run_until([&] {
    client.publish("ch", "live");
    loop.run_for(Millis(20));
    return !got.empty() && got.back() == "live";
  }));
  EXPECT_EQ(client.buffered_publishes(), 0u);
}

// A publish's answer (POST /api/v1/push waits for it): taken, refused by
// Redis (an ACL), buffered then taken, dropped from a full buffer at once.
TEST(RedisClient, PublishAnswersWhetherRedisTookIt) {
  int port = testing::free_port();
  PollLoop loop;
  RedisClientOptions o = options_for("redis://127.0.0.1:" + std::to_string(port));
  o.publish_buffer_bytes = 100;
  RedisClient client(loop, loop, o);
  client.start();
  std::vector<std::string> answers;
  auto note = [&](std::string what) {
    return [&answers, what](bool taken) { answers.push_back(what + (taken ? ":taken" : ":no")); };
  };
  EXPECT_FALSE(client.can_publish());
  client.publish("ch", std::string(40, 'a'), false, note("buffered"));
  client.publish("ch", std::string(40, 'b'), true, note("buffered-sharded"));
  client.publish("ch", std::string(40, 'c'), false, note("dropped"));
  EXPECT_EQ(answers, std::vector<std::string>{"dropped:no"});
  RedisServer server({}, port);
  ASSERT_TRUE(loop.run_until([&] { return answers.size() == 3; }));
  EXPECT_EQ(answers,
            (std::vector<std::string>{"dropped:no", "buffered:taken", "buffered-sharded:taken"}));
  EXPECT_TRUE(client.can_publish());
  Fixture control(tcp_url(server));
  control.client->start();
  ASSERT_TRUE(control.loop.run_until([&] { return control.client->connected(); }));
  EXPECT_EQ(control.call({"ACL", "SETUSER", "default", "-publish"}), "OK");
  client.publish("ch", "x", false, note("refused"));
  client.publish("ch", "y", true, note("sharded"));
  ASSERT_TRUE(loop.run_until([&] { return answers.size() == 5; }));
  EXPECT_EQ(answers[3], "refused:no");
  EXPECT_EQ(answers[4], "sharded:taken");
}

TEST(RedisClient, ResubscribesAfterRedisRestart) {
  auto server = std::make_unique<RedisServer>();
  int port = server->port();
  Fixture f(tcp_url(*server));
  std::vector<bool> states;
  f.client->set_state_handler([&](bool up) { states.push_back(up); });
  f.client->subscribe(RedisClient::Kind::Pattern, "p#*");
  f.client->start();
  ASSERT_TRUE(f.loop.run_until([&] { return f.client->connected(); }));
  server->stop();
  ASSERT_TRUE(f.loop.run_until([&] { return !f.client->connected(); }));
  std::optional<std::string> lost;
  EXPECT_FALSE(f.client->command(std::vector<std::string_view>{"PING"}, [&](auto*) {}));
  server->start();
  ASSERT_TRUE(f.loop.run_until([&] { return f.client->connected(); }));
  ASSERT_TRUE(f.loop.run_until([&] {
    f.client->publish("p#1", "again");
    f.loop.run_for(Millis(20));
    return !f.got.empty();
  }));
  EXPECT_EQ(f.got[0].channel, "p#1");
  EXPECT_EQ(states, (std::vector<bool>{true, false, true}));
  (void)port;
}

TEST(RedisClient, PendingRepliesGetNullWhenTheConnectionDrops) {
  RedisServer server;
  Fixture f(tcp_url(server));
  f.client->start();
  ASSERT_TRUE(f.loop.run_until([&] { return f.client->connected(); }));
  bool got_null = false;
  std::string_view args[] = {"BLPOP", "nothing", "0"};
  ASSERT_TRUE(f.client->command(args, [&](const redisReply* r) { got_null = r == nullptr; }));
  f.loop.run_for(Millis(50));
  server.stop();
  ASSERT_TRUE(f.loop.run_until([&] { return got_null; }));
}

}  // namespace
}  // namespace daheim::cluster
