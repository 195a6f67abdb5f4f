// RedisSessionStore's single writer per session against a real redis-server:
// two stores stand for two nodes; the one whose socket restored a session
// holds it, and the other (whose socket of that session has not noticed its
// transport died) can neither write its old state over it nor delete it.
#include "cluster/redis_session_store.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <optional>

#include "cluster/session_codec.hpp"
#include "poll_loop.hpp"
#include "redis_server.hpp"

namespace daheim::cluster {
namespace {

using testing::PollLoop;
using testing::RedisServer;
using Millis = loop::Millis;

RedisClientOptions options_for(const RedisServer& s) {
  RedisAddress address;
  EXPECT_EQ(parse_redis_url("redis://127.0.0.1:" + std::to_string(s.port()), address), "");
  RedisClientOptions o;
  EXPECT_EQ(resolve_endpoint(address, o.endpoint), "");
  o.reconnect_min = Millis(20);
  o.reconnect_max = Millis(200);
  return o;
}

// One node: a Redis client, the stream log and the session store.
struct Node {
  RedisClient redis;
  StreamLog log;
  RedisSessionStore store;
  Node(PollLoop& loop, const RedisClientOptions& o, const socketio::RecoveryOptions& r)
      : redis(loop, loop, o),
        log(loop, loop, redis, o, {}),
        store(log, redis, loop, r, "sio:session:") {
    redis.start();
  }
};

socketio::SavedSession session(std::string pid, std::vector<std::string> rooms) {
  socketio::SavedSession s;
  s.nsp = "/";
  s.sid = "sid-of-" + pid;
  s.pid = std::move(pid);
  s.rooms = std::move(rooms);
  return s;
}

struct Fixture {
  RedisServer server;
  PollLoop loop;
  socketio::RecoveryOptions recovery;
  std::unique_ptr<Node> a, b;
  Fixture() {
    recovery.enabled = true;
    recovery.max_disconnection_duration = Millis(60000);
    a = std::make_unique<Node>(loop, options_for(server), recovery);
    b = std::make_unique<Node>(loop, options_for(server), recovery);
    EXPECT_TRUE(loop.run_until([&] { return a->redis.connected() && b->redis.connected(); }));
  }
  void settle() {
    ASSERT_TRUE(loop.run_until(
        [&] { return a->store.pending_writes() == 0 && b->store.pending_writes() == 0; }));
  }
  // GET key: its text, nullopt for nil.
  std::optional<std::string> get(const std::string& key) {
    std::optional<std::optional<std::string>> out;
    std::string_view args[] = {"GET", key};
    EXPECT_TRUE(a->redis.command(args, [&](const redisReply* r) {
      if (r != nullptr && r->type == REDIS_REPLY_STRING)
        out = std::string(r->str, r->len);
      else
        out = std::optional<std::string>();
    }));
    EXPECT_TRUE(loop.run_until([&] { return out.has_value(); }));
    return out.value_or(std::nullopt);
  }
  std::vector<std::string> rooms(const std::string& pid) {
    std::optional<std::string> text = get("sio:session:" + pid);
    if (!text) return {};
    std::optional<socketio::SavedSession> s = decode_session(*text);
    return s ? s->rooms : std::vector<std::string>{};
  }
};

// "<16 hex digits>:<digits>", the holder a node writes (no <regex>: gcc 12
// warns inside it under -fsanitize, and warnings are errors).
bool holder_shaped(const std::string& h) {
  auto hex = [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); };
  auto digit = [](char c) { return c >= '0' && c <= '9'; };
  if (h.size() < 18 || h[16] != ':') return false;
  return std::all_of(h.begin(), h.begin() + 16, hex) && std::all_of(h.begin() + 17, h.end(), digit);
}

TEST(RedisSessionStore, TheNodeThatRestoredASessionIsItsOnlyWriter) {
  Fixture f;
  // A's socket lives: its session is written with A as the holder.
  f.a->store.save_live(session("p1", {"sid-of-p1", "on-a"}));
  f.settle();
  EXPECT_EQ(f.rooms("p1"), (std::vector<std::string>{"sid-of-p1", "on-a"}));
  std::optional<std::string> holder_a = f.get("sio:session:p1#holder");
  ASSERT_TRUE(holder_a);
  EXPECT_TRUE(holder_shaped(*holder_a)) << *holder_a;

  // The client comes back on B, which restores the session and saves its
  // own state (a room joined on B).
  f.b->store.restored("p1");
  f.b->store.save_live(session("p1", {"sid-of-p1", "on-a", "on-b"}));
  f.settle();
  std::optional<std::string> holder_b = f.get("sio:session:p1#holder");
  ASSERT_TRUE(holder_b);
  EXPECT_NE(*holder_b, *holder_a);
  EXPECT_EQ(f.rooms("p1"), (std::vector<std::string>{"sid-of-p1", "on-a", "on-b"}));

  // A's socket times out later and saves its old state: refused.
  f.a->store.save(session("p1", {"sid-of-p1", "on-a"}));
  f.settle();
  EXPECT_EQ(f.rooms("p1"), (std::vector<std::string>{"sid-of-p1", "on-a", "on-b"}));
  EXPECT_EQ(f.a->store.stats().stale_refused, 1u);
  // Nor can it delete the session (a socket leaving for good).
  f.a->store.forget("p1");
  f.settle();
  EXPECT_EQ(f.rooms("p1"), (std::vector<std::string>{"sid-of-p1", "on-a", "on-b"}));
  EXPECT_EQ(f.a->store.stats().stale_refused, 2u);
  EXPECT_EQ(f.b->store.stats().stale_refused, 0u);

  // B keeps writing; its own forget deletes the session and the holder.
  f.b->store.save_live(session("p1", {"sid-of-p1", "on-b"}));
  f.settle();
  EXPECT_EQ(f.rooms("p1"), (std::vector<std::string>{"sid-of-p1", "on-b"}));
  f.b->store.forget("p1");
  f.settle();
  EXPECT_FALSE(f.get("sio:session:p1"));
  EXPECT_FALSE(f.get("sio:session:p1#holder"));
}

TEST(RedisSessionStore, ASessionBackOnTheNodeThatLostItIsTakenOverAgain) {
  Fixture f;
  f.a->store.save_live(session("p2", {"sid-of-p2"}));
  f.settle();
  f.b->store.restored("p2");
  f.b->store.save_live(session("p2", {"sid-of-p2", "b"}));
  f.settle();
  // The client's connection to B breaks too and it comes back to A: A's
  // new socket restores the session and takes it over from B.
  f.b->store.save(session("p2", {"sid-of-p2", "b"}));
  f.settle();
  f.a->store.restored("p2");
  f.a->store.save_live(session("p2", {"sid-of-p2", "b", "a-again"}));
  f.settle();
  EXPECT_EQ(f.rooms("p2"), (std::vector<std::string>{"sid-of-p2", "b", "a-again"}));
  f.b->store.save(session("p2", {"sid-of-p2", "b"}));
  f.settle();
  EXPECT_EQ(f.rooms("p2"), (std::vector<std::string>{"sid-of-p2", "b", "a-again"}));
  EXPECT_EQ(f.b->store.stats().stale_refused, 1u);
  EXPECT_EQ(f.a->store.stats().stale_refused, 0u);
}

TEST(RedisSessionStore, ASessionANodeJsNodeWroteIsWrittenAndTakenOver) {
  Fixture f;
  // A Node.js node writes sessions with SET only (no holder key).
  std::string text = encode_session(session("p3", {"sid-of-p3", "node"}));
  std::string_view set[] = {"SET", "sio:session:p3", text, "PX", "60000"};
  bool done = false;
  ASSERT_TRUE(f.a->redis.command(set, [&](const redisReply*) { done = true; }));
  ASSERT_TRUE(f.loop.run_until([&] { return done; }));
  f.a->store.save_live(session("p3", {"sid-of-p3", "ours"}));
  f.settle();
  EXPECT_EQ(f.rooms("p3"), (std::vector<std::string>{"sid-of-p3", "ours"}));
  EXPECT_EQ(f.a->store.stats().stale_refused, 0u);
}

}  // namespace
}  // namespace daheim::cluster
