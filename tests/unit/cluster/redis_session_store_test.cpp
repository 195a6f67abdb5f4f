// RedisSessionStore's single writer per session against a real redis-server:
// two stores stand for two nodes; the one whose socket restored a session
// holds it, and the other (whose socket of that session has not noticed its
// transport died) can neither write its old state over it nor delete it.
// Restores take the missed events from the reader's window of the stream
// (no XRANGE) when the offset is in it, and from Redis when it is older.
#include "cluster/redis_session_store.hpp"

#include <gtest/gtest.h>
#include <hiredis/hiredis.h>

#include <algorithm>
#include <optional>
#include <string>
#include <vector>

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
  Node(PollLoop& loop, const RedisClientOptions& o, const socketio::RecoveryOptions& r,
       StreamLogOptions streams = {})
      : redis(loop, loop, o),
        log(loop, loop, redis, o, std::move(streams)),
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

// The recovery window: entries XADDed as @socket.io/redis-streams-emitter
// does, sessions saved by the store, restores answered from the window or
// from Redis, counted by redis-server itself (INFO commandstats).
struct WindowFixture {
  RedisServer server;
  PollLoop loop;
  socketio::RecoveryOptions recovery;
  RedisClientOptions client = options_for(server);
  std::unique_ptr<Node> writer;  // XADDs and GETs; its reader is not started
  WindowFixture() {
    recovery.enabled = true;
    recovery.max_disconnection_duration = Millis(60000);
    writer = std::make_unique<Node>(loop, client, recovery);
    EXPECT_TRUE(loop.run_until([&] { return writer->redis.connected(); }));
  }
  std::unique_ptr<Node> node(std::size_t window_entries, bool start = true) {
    StreamLogOptions o;
    o.window.max_entries = window_entries;
    auto n = std::make_unique<Node>(loop, client, recovery, o);
    if (start) n->log.start();
    EXPECT_TRUE(
        loop.run_until([&] { return n->redis.connected() && (!start || n->log.reading()); }));
    return n;
  }
  std::string command(std::vector<std::string> args) {
    std::vector<std::string_view> views(args.begin(), args.end());
    std::optional<std::string> out;
    EXPECT_TRUE(writer->redis.command(views, [&](const redisReply* r) {
      out = r != nullptr && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS)
                ? std::string(r->str, r->len)
                : std::string();
    }));
    EXPECT_TRUE(loop.run_until([&] { return out.has_value(); }));
    return out.value_or("");
  }
  // An event ["e", n] to `rooms` (everyone when empty); its entry id.
  std::string xadd(int n, const std::string& rooms = "") {
    return command({"XADD", "socket.io", "*", "uid", "emitter", "nsp", "/", "type", "3", "data",
                    R"({"packet":{"type":2,"data":["e",)" + std::to_string(n) +
                        R"(]},"opts":{"rooms":[)" + rooms + R"(],"except":[],"flags":{}}})"});
  }
  uint64_t xrange_calls() {
    std::string info = command({"INFO", "commandstats"});
    std::size_t at = info.find("cmdstat_xrange:calls=");
    return at == std::string::npos ? 0 : std::stoull(info.substr(at + 21));
  }
  void save(Node& n, const std::string& pid, std::vector<std::string> rooms,
            std::string start_offset = "") {
    socketio::SavedSession s = session(pid, std::move(rooms));
    s.start_offset = std::move(start_offset);
    n.store.save(s);
    ASSERT_TRUE(loop.run_until([&] { return n.store.pending_writes() == 0; }));
  }
  void reads_through(Node& n, const std::string& id) {
    ASSERT_TRUE(loop.run_until([&] { return n.log.cursor("socket.io") >= *parse_stream_id(id); }));
  }
  // The missed events' frame bodies; nullopt: no session restored.
  std::optional<std::vector<std::string>> restore(Node& n, const std::string& pid,
                                                  const std::string& offset) {
    std::optional<std::optional<socketio::RestoredSession>> out;
    n.store.restore("/", pid, offset,
                    [&](std::optional<socketio::RestoredSession> r) { out = std::move(r); });
    EXPECT_TRUE(loop.run_until([&] { return out.has_value(); }));
    if (!out || !*out) return std::nullopt;
    std::vector<std::string> bodies;
    for (const auto& p : (*out)->missed) bodies.emplace_back(p.text->body());
    return bodies;
  }
};

std::string ev(int n, const std::string& id) {
  return "42[\"e\"," + std::to_string(n) + ",\"" + id + "\"]";
}

TEST(RedisSessionStore, ARestoreInsideTheWindowTakesItsOwnEventsWithoutReadingTheStream) {
  WindowFixture f;
  auto a = f.node(100);
  std::string e0 = f.xadd(0);
  std::string e1 = f.xadd(1, R"("r")");
  std::string e2 = f.xadd(2);
  f.xadd(3, R"("other")");
  std::string e4 = f.xadd(4, R"("sid-of-p1")");
  f.xadd(5, R"("sid-of-p2")");
  f.reads_through(*a, e4);
  f.save(*a, "p1", {"sid-of-p1", "r"});
  uint64_t xrange = f.xrange_calls();
  EXPECT_EQ(f.restore(*a, "p1", e0), (std::vector<std::string>{ev(1, e1), ev(2, e2), ev(4, e4)}));
  EXPECT_EQ(f.restore(*a, "p1", e2), (std::vector<std::string>{ev(4, e4)}));
  EXPECT_EQ(f.xrange_calls(), xrange);
  EXPECT_EQ(a->store.stats().window_hits, 2u);
  EXPECT_EQ(a->store.stats().window_misses, 0u);
  EXPECT_EQ(a->store.stats().restored, 2u);
  EXPECT_EQ(a->log.window_entries(), 6u);
  // An id that is not an entry of the stream: Redis says it is gone.
  EXPECT_EQ(f.restore(*a, "p1", "1-1"), std::nullopt);
  EXPECT_EQ(a->store.stats().window_misses, 1u);
  EXPECT_EQ(a->store.stats().restore_failed, 1u);
}

TEST(RedisSessionStore, AnOffsetOlderThanTheWindowIsReadFromRedisWithTheSameResult) {
  WindowFixture f;
  auto a = f.node(3);
  std::vector<std::string> ids;
  for (int n = 0; n < 6; ++n) ids.push_back(f.xadd(n, n % 2 ? R"("r")" : R"("x")"));
  f.reads_through(*a, ids.back());
  f.save(*a, "p1", {"sid-of-p1", "r"});
  // The window holds entries 3, 4, 5: 3 is its oldest, an answer of its own.
  uint64_t xrange = f.xrange_calls();
  EXPECT_EQ(f.restore(*a, "p1", ids[3]), (std::vector<std::string>{ev(5, ids[5])}));
  EXPECT_EQ(f.xrange_calls(), xrange);
  EXPECT_EQ(a->store.stats().window_hits, 1u);
  // 2 and 0 are older: exists + XRANGE pages, the same events.
  EXPECT_EQ(f.restore(*a, "p1", ids[2]), (std::vector<std::string>{ev(3, ids[3]), ev(5, ids[5])}));
  EXPECT_EQ(f.restore(*a, "p1", ids[0]),
            (std::vector<std::string>{ev(1, ids[1]), ev(3, ids[3]), ev(5, ids[5])}));
  EXPECT_EQ(a->store.stats().window_misses, 2u);
  EXPECT_GE(f.xrange_calls(), xrange + 4);
  // Without a window every restore reads Redis.
  auto b = f.node(0);
  f.reads_through(*b, ids.back());
  EXPECT_EQ(f.restore(*b, "p1", ids[3]), (std::vector<std::string>{ev(5, ids[5])}));
  EXPECT_EQ(b->store.stats().window_misses, 1u);
  EXPECT_EQ(b->log.window_entries(), 0u);
}

TEST(RedisSessionStore, ANodeStartedAfterTheEventsFillsItsWindowFromTheStreamInPages) {
  WindowFixture f;
  // 2,500 entries before the node starts (a restart); its window takes the
  // newest 2,200 (pages of 1,000, 1,000, 200 from the newest back).
  std::vector<std::string> ids;
  for (int n = 0; n < 2500; ++n) ids.push_back(f.xadd(n, n % 100 == 0 ? R"("r")" : R"("x")"));
  auto a = f.node(2200);
  EXPECT_EQ(a->log.cursor("socket.io"), *parse_stream_id(ids.back()));
  EXPECT_EQ(a->log.window_entries(), 2200u);
  f.save(*a, "p1", {"sid-of-p1", "r"});
  std::string after = f.xadd(2500, R"("r")");  // read by the reader after the start
  f.reads_through(*a, after);
  uint64_t xrange = f.xrange_calls();
  std::vector<std::string> want;
  for (int n = 400; n < 2500; n += 100) want.push_back(ev(n, ids[static_cast<std::size_t>(n)]));
  want.push_back(ev(2500, after));
  // The entry read after the start pushed 300 out: 301 is the oldest.
  EXPECT_EQ(f.restore(*a, "p1", ids[301]), want);
  EXPECT_EQ(f.xrange_calls(), xrange);
  EXPECT_EQ(a->store.stats().window_hits, 1u);
  EXPECT_EQ(f.restore(*a, "p1", ids[300]), want);  // just older: from Redis
  EXPECT_EQ(a->store.stats().window_misses, 1u);
  EXPECT_GT(f.xrange_calls(), xrange);
  want.insert(want.begin(), ev(300, ids[300]));
  EXPECT_EQ(f.restore(*a, "p1", ids[299]), want);
}

TEST(RedisSessionStore, ARestoreBeforeTheReaderStartedWaitsForItsWindow) {
  WindowFixture f;
  // The session began on an empty stream (start offset "0-0"), and got no
  // event with an offset; the stream has three since.
  auto a = f.node(100, false);
  f.save(*a, "p1", {"sid-of-p1"}, "0-0");
  std::string e0 = f.xadd(0), e1 = f.xadd(1, R"("sid-of-p1")"), e2 = f.xadd(2, R"("y")");
  std::optional<std::optional<socketio::RestoredSession>> out;
  a->store.restore("/", "p1", "",
                   [&](std::optional<socketio::RestoredSession> r) { out = std::move(r); });
  f.loop.run_for(Millis(200));
  EXPECT_FALSE(out.has_value());  // no cursor yet: nothing to answer from
  a->log.start();
  ASSERT_TRUE(f.loop.run_until([&] { return out.has_value(); }));
  ASSERT_TRUE(*out);
  std::vector<std::string> bodies;
  for (const auto& p : (*out)->missed) bodies.emplace_back(p.text->body());
  EXPECT_EQ(bodies, (std::vector<std::string>{ev(0, e0), ev(1, e1)}));
  EXPECT_EQ(a->store.stats().window_hits, 1u);
}

}  // namespace
}  // namespace daheim::cluster
