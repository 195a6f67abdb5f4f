// The classic pub/sub adapter: what it publishes (exact bytes, channels) and
// what it does with what @socket.io/redis-adapter and -emitter publish.
#include "cluster/pubsub_adapter.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "cluster/cluster_node.hpp"
#include "harness.hpp"
#include "poll_loop.hpp"
#include "redis_server.hpp"
#include "socketio/encoder.hpp"

namespace daheim::cluster {
namespace {

using namespace std::string_literals;
using socketio::BroadcastOptions;
using testing::Harness;
using testing::Peer;
using Frames = std::vector<std::string>;

RedisClientOptions options_for(int port) {
  RedisAddress a;
  EXPECT_EQ(parse_redis_url("redis://127.0.0.1:" + std::to_string(port), a), "");
  RedisClientOptions o;
  EXPECT_EQ(resolve_endpoint(a, o.endpoint), "");
  o.reconnect_min = loop::Millis(20);
  return o;
}

// Frames of a uid-less emitter broadcast; `rest` = the packet map tail and opts.
std::string emitter_message(std::string_view data_and_nsp, std::string_view opts) {
  return "\x93\xa7"
         "emitter\x83\xa4type\x02\xa4"
         "data"s +
         std::string(data_and_nsp) + std::string(opts);
}
const std::string kNoOpts =
    "\x83\xa5rooms\x90\xa5"
    "flags\x80\xa6"
    "except\x90"s;

class PubSubAdapterTest : public ::testing::Test {
 protected:
  PubSubAdapterTest()
      : redis(loop, loop, options_for(testing::free_port())), node(redis, loop, ClusterOptions{}) {
    h.server.set_adapter_factory(node.adapter_factory());
    h.server.of("/").set_adapter(node.adapter_factory()(h.server.of("/")));
    for (int i = 0; i < 3; ++i) peers.push_back(h.join());
  }
  PubSubAdapter& adapter() { return static_cast<PubSubAdapter&>(h.server.of("/").adapter()); }
  socketio::Socket& socket(int i) { return Harness::socket_of(*peers[i]); }
  void deliver(std::string_view channel, std::string_view payload) {
    node.on_message(RedisClient::Kind::Pattern, channel, "socket.io#/#*", payload);
  }
  void request(std::string_view payload) {
    node.on_message(RedisClient::Kind::Channel, "socket.io-request#/#", {}, payload);
  }
  std::vector<int> receivers(const Frames& frames) {
    std::vector<int> out;
    for (std::size_t i = 0; i < peers.size(); ++i) {
      Frames f = peers[i]->take();
      if (f.empty()) continue;
      EXPECT_EQ(f, frames) << "peer " << i;
      out.push_back(static_cast<int>(i));
    }
    return out;
  }

  testing::PollLoop loop;
  RedisClient redis;
  ClusterNode node;
  Harness h;
  std::vector<std::unique_ptr<Peer>> peers;
};

TEST_F(PubSubAdapterTest, EncodesABroadcastAsTheRedisAdapterDoes) {
  auto packet = socketio::encode_event("/", "hello", R"(["world"])");
  std::string uid = adapter().uid();
  ASSERT_EQ(uid.size(), 6u);
  EXPECT_EQ(adapter().encode_broadcast(packet, {}), "\x93\xa6"s + uid +
                                                        "\x83\xa4type\x02\xa4"
                                                        "data\x92\xa5hello\xa5world\xa3nsp\xa1/"
                                                        "\x83\xa5rooms\x90\xa6"
                                                        "except\x90\xa5"
                                                        "flags\x80"s);
  BroadcastOptions opts;
  opts.rooms = {"room1"};
  opts.except = {"x", "x", "y"};
  opts.flags.volatile_ = true;
  auto bin = socketio::encode_event("/", "file", R"([{"_placeholder":true,"num":0}])",
                                    std::vector<std::string>{"\x01\x02\x03"s});
  EXPECT_EQ(adapter().encode_broadcast(bin, opts), "\x93\xa6"s + uid +
                                                       "\x83\xa4type\x02\xa4"
                                                       "data\x92\xa4"
                                                       "file\xc4\x03\x01\x02\x03"
                                                       "\xa3nsp\xa1/\x83\xa5rooms\x91\xa5room1\xa6"
                                                       "except\x92\xa1x\xa1y"
                                                       "\xa5"
                                                       "flags\x81\xa8volatile\xc3"s);
}

TEST_F(PubSubAdapterTest, PublishesToTheRoomChannelAndNeverLocalBroadcasts) {
  testing::RedisServer server({}, redis.endpoint().address.port);
  RedisClient observer(loop, loop, options_for(server.port()));
  std::vector<std::pair<std::string, std::string>> seen;
  observer.set_message_handler([&](RedisClient::Kind, std::string_view ch, std::string_view,
                                   std::string_view p) { seen.emplace_back(ch, p); });
  observer.subscribe(RedisClient::Kind::Pattern, "socket.io#/#*");
  observer.start();
  redis.start();
  ASSERT_TRUE(loop.run_until([&] { return redis.connected() && observer.connected(); }));
  auto packet = socketio::encode_event("/", "hi", "[1]");
  // The observer's PSUBSCRIBE is in place once a probe arrives.
  ASSERT_TRUE(loop.run_until([&] {
    redis.publish("socket.io#/#probe#", "p");
    loop.run_for(loop::Millis(20));
    return !seen.empty();
  }));
  seen.clear();
  socket(0).join("room1");
  BroadcastOptions local;
  local.flags.local = true;
  h.server.of("/").emit_to(local, "hi", "[1]");
  BroadcastOptions to_room;
  to_room.rooms = {"room1"};
  h.server.of("/").emit_to(to_room, "hi", "[1]");
  h.server.of("/").emit("hi", "[1]");
  ASSERT_TRUE(loop.run_until([&] { return seen.size() == 2; }));
  loop.run_for(loop::Millis(50));
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, "socket.io#/#room1#");
  EXPECT_EQ(seen[1].first, "socket.io#/#");
  EXPECT_EQ(seen[1].second, adapter().encode_broadcast(packet, {}));
  EXPECT_EQ(node.stats().broadcasts_published, 2u);
  // Local delivery: peer 0 got all three, the others two.
  EXPECT_EQ(peers[0]->take().size(), 3u);
  EXPECT_EQ(peers[1]->take().size(), 2u);
  // Our own messages come back through the pattern and are ignored.
  ASSERT_TRUE(loop.run_until([&] { return node.stats().messages_received >= 2; }));
  EXPECT_EQ(node.stats().messages_applied, 0u);
  EXPECT_TRUE(peers[1]->take().empty());
}

// Redis's answer is kept only for a broadcast whose caller said it waits
// (POST /api/v1/push); every other broadcast is published and delivered all
// the same.
TEST_F(PubSubAdapterTest, AnswersWhenLoggedForTheExpectedBroadcast) {
  using Logged = socketio::Adapter::Logged;
  testing::RedisServer server({}, redis.endpoint().address.port);
  redis.start();
  ASSERT_TRUE(loop.run_until([&] { return redis.connected(); }));
  std::optional<Logged> got;
  h.server.of("/").emit("hi", "[1]");
  adapter().when_logged([&](Logged l) { got = l; });
  EXPECT_EQ(got, Logged::Refused);  // nobody said it would wait: no answer kept
  got.reset();
  adapter().expect_logged();
  h.server.of("/").emit("hi", "[2]");
  adapter().when_logged([&](Logged l) { got = l; });
  EXPECT_FALSE(got);
  ASSERT_TRUE(loop.run_until([&] { return got.has_value(); }));
  EXPECT_EQ(got, Logged::Yes);
  EXPECT_EQ(redis.stats().published, 2u);
  EXPECT_EQ(node.stats().broadcasts_published, 2u);
  EXPECT_EQ(receivers({R"(42["hi",1])", R"(42["hi",2])"}), (std::vector<int>{0, 1, 2}));
}

TEST_F(PubSubAdapterTest, DeliversTheEmittersBroadcastExactlyOnce) {
  deliver("socket.io#/#", emitter_message("\x92\xa5hello\xa5world\xa3nsp\xa1/", kNoOpts));
  EXPECT_EQ(receivers({R"(42["hello","world"])"}), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(node.stats().messages_applied, 1u);
  // No nsp in the packet means "/".
  deliver("socket.io#/#",
          "\x93\xa7"
          "emitter\x82\xa4type\x02\xa4"
          "data\x91\xa1"
          "e"s +
              kNoOpts);
  EXPECT_EQ(receivers({R"(42["e"])"}), (std::vector<int>{0, 1, 2}));
}

TEST_F(PubSubAdapterTest, HonoursRoomsExceptAndTheRoomChannel) {
  socket(0).join("room1");
  socket(1).join("room1");
  socket(1).join("vip");
  std::string to_room1 =
      "\x83\xa5rooms\x91\xa5room1\xa5"
      "flags\x80\xa6"
      "except\x91\xa3vip"s;
  deliver("socket.io#/#room1#", emitter_message("\x93\xa2hi\x01\x81\xa1"
                                                "a\xc3\xa3nsp\xa1/",
                                                to_room1));
  EXPECT_EQ(receivers({R"(42["hi",1,{"a":true}])"}), (std::vector<int>{0}));
  // A room channel for a room nobody here is in: ignored before decoding.
  deliver("socket.io#/#nobody#", "garbage");
  EXPECT_EQ(receivers({}), std::vector<int>{});
  EXPECT_EQ(node.stats().messages_dropped, 0u);
  // To a socket id.
  std::string sid(socket(2).id());
  std::string to_sid = "\x83\xa5rooms\x91\xb4"s + sid +
                       "\xa5"
                       "flags\x80\xa6"
                       "except\x90"s;
  deliver("socket.io#/#" + sid + "#", emitter_message("\x91\xa1x\xa3nsp\xa1/", to_sid));
  EXPECT_EQ(receivers({R"(42["x"])"}), (std::vector<int>{2}));
}

TEST_F(PubSubAdapterTest, BinaryArgumentsBecomeAttachments) {
  deliver("socket.io#/#", emitter_message("\x92\xa4"
                                          "file\xc4\x03\x01\x02\x03\xa3nsp\xa1/",
                                          kNoOpts));
  EXPECT_EQ(receivers({R"(451-["file",{"_placeholder":true,"num":0}])", "<bin:\x01\x02\x03>"s}),
            (std::vector<int>{0, 1, 2}));
}

TEST_F(PubSubAdapterTest, IgnoresOwnUidAndOtherNamespaces) {
  auto own = adapter().encode_broadcast(socketio::encode_event("/", "mine", ""), {});
  deliver("socket.io#/#", own);
  deliver("socket.io#/#", emitter_message("\x91\xa1x\xa3nsp\xa6/other", kNoOpts));
  EXPECT_EQ(receivers({}), std::vector<int>{});
  EXPECT_EQ(node.stats().messages_dropped, 0u);
  EXPECT_EQ(node.stats().messages_applied, 0u);
}

TEST_F(PubSubAdapterTest, DropsAndCountsGarbage) {
  std::vector<std::string> garbage = {
      "",
      "\xc1",
      "\x93\x01\x02",      // truncated
      "\x92\xa1u\x80",     // two elements
      "\x93\x01\x80\x80",  // uid not a string
      "\x93\xa1u\x82\xa4type\x02\xa4"
      "data\xa1x" +
          kNoOpts,  // data not an array
      "\x93\xa1u\x82\xa4type\x03\xa4"
      "data\x91\xa1x" +
          kNoOpts,  // not an event
      "\x93\xa1u\x82\xa4type\x02\xa4"
      "data\x91\x01" +
          kNoOpts,  // name not a string
      "\x93\xa1u\x82\xa4type\x02\xa4"
      "data\x91\xa1x\x01",  // opts not a map
      "\x93\xa1u\x82\xa4type\x02\xa4"
      "data\x92\xa1x\xa2\xc3\x28" +
          kNoOpts,  // bad UTF-8
      "\x93\xa1u\x82\xa4type\x02\xa4"
      "data\x91\xa1x\x81\xa5rooms\x91\x80",  // room a map
      std::string(2u << 20, '\x90'),         // too large
  };
  for (const std::string& g : garbage) deliver("socket.io#/#", g);
  EXPECT_EQ(node.stats().messages_dropped, garbage.size());
  EXPECT_EQ(receivers({}), std::vector<int>{});
  // Still working.
  deliver("socket.io#/#", emitter_message("\x91\xa1x\xa3nsp\xa1/", kNoOpts));
  EXPECT_EQ(receivers({R"(42["x"])"}), (std::vector<int>{0, 1, 2}));
}

TEST_F(PubSubAdapterTest, EmitterRequestsJoinLeaveAndDisconnect) {
  socket(0).join("room1");
  request(R"({"type":2,"opts":{"rooms":["room1"],"except":[]},"rooms":["room2"]})");
  EXPECT_TRUE(adapter().has_room("room2"));
  EXPECT_EQ(socket(0).rooms().size(), 3u);
  request(R"({"type":3,"opts":{"rooms":[],"except":[]},"rooms":["room1"]})");
  EXPECT_FALSE(adapter().has_room("room1"));
  request(R"({"type":4,"opts":{"rooms":["room2"],"except":[]},"close":false})");
  EXPECT_EQ(peers[0]->take(), Frames{"41"});
  EXPECT_EQ(h.server.of("/").size(), 2u);
  request("{not json");
  EXPECT_EQ(node.stats().messages_dropped, 1u);
}

}  // namespace
}  // namespace daheim::cluster

namespace daheim::cluster {
namespace {

// Requests with a real Redis: an "observer" node that subscribes to the
// request channel (so NUMSUB counts it) but never answers.
class PubSubRequestTest : public PubSubAdapterTest {
 protected:
  void SetUp() override {
    server = std::make_unique<testing::RedisServer>(std::vector<std::string>{},
                                                    redis.endpoint().address.port);
    observer = std::make_unique<RedisClient>(loop, loop, options_for(server->port()));
    observer->set_message_handler([this](RedisClient::Kind, std::string_view ch, std::string_view,
                                         std::string_view p) { seen.emplace_back(ch, p); });
    observer->subscribe(RedisClient::Kind::Channel, "socket.io-request#/#");
    observer->start();
    redis.start();
    ASSERT_TRUE(loop.run_until([&] { return redis.connected() && observer->connected(); }));
    std::size_t n = 0;
    ASSERT_TRUE(loop.run_until([&] {
      adapter().count_servers([&](std::size_t c) { n = c; });
      loop.run_for(loop::Millis(20));
      return n == 2;
    }));
  }
  std::unique_ptr<testing::RedisServer> server;
  std::unique_ptr<RedisClient> observer;
  std::vector<std::pair<std::string, std::string>> seen;
};

TEST_F(PubSubRequestTest, ANodeThatDoesNotAnswerGivesAnHonestPartialAnswerAtTheTimeout) {
  socket(0).join("r");
  std::optional<std::pair<std::size_t, bool>> got;
  auto start = loop.now();
  adapter().fetch_sockets_async({}, [&](std::vector<socketio::RemoteSocket> s, bool complete) {
    got = std::make_pair(s.size(), complete);
  });
  ASSERT_TRUE(loop.run_until([&] { return got.has_value(); }, loop::Millis(15000)));
  EXPECT_GE(loop.now() - start, loop::Millis(4900));  // requestsTimeout 5000
  EXPECT_EQ(*got, std::make_pair(std::size_t{3}, false));
  EXPECT_EQ(node.stats().request_timeouts, 1u);
  // What the observer saw: the reference's REMOTE_FETCH request, byte for byte.
  ASSERT_EQ(seen.size(), 1u);
  std::string json = seen[0].second;
  auto id_at = json.find("\"requestId\":\"") + 13;
  std::string id = json.substr(id_at, 6);
  EXPECT_EQ(json, R"({"uid":")" + adapter().uid() + R"(","requestId":")" + id +
                      R"(","type":5,"opts":{"rooms":[],"except":[]}})");
}

TEST_F(PubSubRequestTest, PublishesJoinLeaveDisconnectAndAckBroadcastRequests) {
  BroadcastOptions opts;
  opts.rooms = {"a"};
  std::string_view rooms[] = {"b"};
  h.server.of("/").sockets_join(opts, rooms);
  h.server.of("/").sockets_leave(opts, rooms);
  h.server.of("/").disconnect_sockets(opts, true);
  h.server.of("/").emit_with_ack(opts, "ask", "[1]", {}, loop::Millis(1000),
                                 [](bool, std::vector<socketio::AckResponse>&) {});
  ASSERT_TRUE(loop.run_until([&] { return seen.size() == 4; }));
  std::string uid = adapter().uid();
  EXPECT_EQ(seen[0].second, R"({"uid":")" + uid +
                                R"(","type":2,"opts":{"rooms":["a"],"except":[]},"rooms":["b"]})");
  EXPECT_EQ(seen[1].second, R"({"uid":")" + uid +
                                R"(","type":3,"opts":{"rooms":["a"],"except":[]},"rooms":["b"]})");
  EXPECT_EQ(seen[2].second,
            R"({"uid":")" + uid + R"(","type":4,"opts":{"rooms":["a"],"except":[]},"close":true})");
  // BROADCAST with ack: msgpack {uid, requestId, type: 7, packet, opts} with
  // flags.timeout.
  const std::string& m = seen[3].second;
  std::string head = "\x85\xa3uid\xa6"s + uid + "\xa9requestId\xa6";
  ASSERT_EQ(m.substr(0, head.size()), head);
  EXPECT_EQ(m.substr(head.size() + 6),
            "\xa4type\x07\xa6packet\x83\xa4type\x02\xa4"
            "data\x92\xa3"
            "ask\x01\xa3nsp\xa1/"
            "\xa4opts\x83\xa5rooms\x91\xa1"
            "a\xa6"
            "except\x90\xa5"
            "flags\x81\xa7timeout\xcd\x03\xe8"s);
}

}  // namespace
}  // namespace daheim::cluster
