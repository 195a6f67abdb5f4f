// The sharded adapter's wire format (socket.io-adapter ClusterAdapter
// messages) and channel choice, and what it does with Node's messages.
#include "cluster/sharded_adapter.hpp"

#include <gtest/gtest.h>

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

class ShardedAdapterTest : public ::testing::Test {
 protected:
  ShardedAdapterTest() : redis(loop, loop, options()), node(redis, loop, sharded()) {
    h.server.set_adapter_factory(node.adapter_factory());
    h.server.of("/").set_adapter(node.adapter_factory()(h.server.of("/")));
    for (int i = 0; i < 2; ++i) peers.push_back(h.join());
  }
  static RedisClientOptions options() {
    RedisAddress a;
    parse_redis_url("redis://127.0.0.1:1", a);
    RedisClientOptions o;
    resolve_endpoint(a, o.endpoint);
    return o;
  }
  static ClusterOptions sharded() {
    ClusterOptions o;
    o.adapter = AdapterKind::Sharded;
    return o;
  }
  ShardedAdapter& adapter() { return static_cast<ShardedAdapter&>(h.server.of("/").adapter()); }
  void deliver(std::string_view channel, std::string_view payload) {
    node.on_message(RedisClient::Kind::Shard, channel, {}, payload);
  }

  testing::PollLoop loop;
  RedisClient redis;
  ClusterNode node;
  Harness h;
  std::vector<std::unique_ptr<testing::Peer>> peers;
};

TEST_F(ShardedAdapterTest, EncodesBroadcastsAsTheClusterAdapterDoes) {
  std::string uid = adapter().uid();
  ASSERT_EQ(uid.size(), 16u);
  ASSERT_EQ(uid.find_first_not_of("0123456789abcdef"), std::string::npos);
  BroadcastOptions opts;
  opts.rooms = {"lobby"};
  auto packet = socketio::encode_event("/", "hello", R"(["world",1])");
  EXPECT_EQ(adapter().encode_broadcast(packet, opts),
            R"({"type":3,"data":{"packet":{"type":2,"data":["hello","world",1]},)"
            R"("opts":{"rooms":["lobby"],"except":[],"flags":{}}},"uid":")" +
                uid + R"(","nsp":"/"})");
  // One public room: its own channel; a socket id (20 characters), several
  // rooms or an ack: the main channel.
  EXPECT_EQ(adapter().channel_for(opts, false), "socket.io#/#lobby#");
  EXPECT_EQ(adapter().channel_for(opts, true), "socket.io#/#");
  opts.rooms = {std::string(20, 'x')};
  EXPECT_EQ(adapter().channel_for(opts, false), "socket.io#/#");
  opts.rooms = {"a", "b"};
  EXPECT_EQ(adapter().channel_for(opts, false), "socket.io#/#");
  // Binary: the whole message as msgpack, the buffer as bin.
  auto bin = socketio::encode_event("/", "f", R"([{"_placeholder":true,"num":0}])",
                                    std::vector<std::string>{"\x01\x02"s});
  EXPECT_EQ(adapter().encode_broadcast(bin, {}),
            "\x84\xa4type\x03\xa4"
            "data\x82\xa6packet\x82\xa4type\x02\xa4"
            "data\x92\xa1"
            "f"
            "\xc4\x02\x01\x02\xa4opts\x83\xa5rooms\x90\xa6"
            "except\x90\xa5"
            "flags\x80"
            "\xa3uid\xb0"s +
                uid + "\xa3nsp\xa1/"s);
}

TEST_F(ShardedAdapterTest, AppliesNodeMessagesAndIgnoresItsOwn) {
  // As a Node.js node publishes io.to("room").emit("hi", 1) (issue #561's shape).
  Harness::socket_of(*peers[0]).join("room");
  deliver("socket.io#/#room#",
          R"({"type":3,"data":{"packet":{"type":2,"data":["hi",1]},"opts":{"rooms":["room"],)"
          R"("except":[],"flags":{}}},"uid":"19183eaa9eddca93","nsp":"/"})");
  EXPECT_EQ(peers[0]->take(), std::vector<std::string>{R"(42["hi",1])"});
  EXPECT_TRUE(peers[1]->take().empty());
  deliver("socket.io#/#", adapter().encode_broadcast(socketio::encode_event("/", "own", ""), {}));
  EXPECT_TRUE(peers[0]->take().empty());
  deliver("socket.io#/#", R"({"type":3,"data":{},"uid":"x","nsp":"/other"})");
  deliver("socket.io#/#", R"({"type":2,"uid":"x","nsp":"/"})");  // heartbeat: ignored
  EXPECT_EQ(node.stats().messages_dropped, 0u);
  deliver("socket.io#/#", R"({"type":3,"data":{"packet":{}},"uid":"x","nsp":"/"})");
  deliver("socket.io#/#", "\x84\xc1");
  EXPECT_EQ(node.stats().messages_dropped, 2u);
}

TEST_F(ShardedAdapterTest, SubscribesARoomChannelWhileItHasMembers) {
  std::size_t base = redis.subscriptions();  // main + own response channel
  EXPECT_EQ(base, 2u);
  socketio::Socket& s0 = Harness::socket_of(*peers[0]);
  socketio::Socket& s1 = Harness::socket_of(*peers[1]);
  s0.join("lobby");
  s1.join("lobby");
  EXPECT_EQ(redis.subscriptions(), base + 1);
  s0.leave("lobby");
  EXPECT_EQ(redis.subscriptions(), base + 1);
  s1.leave("lobby");
  EXPECT_EQ(redis.subscriptions(), base);
}

}  // namespace
}  // namespace daheim::cluster
