// The counter example on the SDK's fake host: one node, and three nodes of
// a FakeCluster sharing a fake Redis (no Redis, no network).
#include <gtest/gtest.h>
#include <daheim/testing/fake_host.hpp>

#include <map>
#include <string>

namespace {

using dhl::Json;
using dhl::testing::FakeCluster;
using dhl::testing::FakeHost;
using dhl::testing::FakeRedisReply;

TEST(Counter, OneNodeCountsInMemory) {
  FakeHost host(dhl_plugin_v1());
  ASSERT_TRUE(host.ok());
  auto& s = host.connect();
  EXPECT_EQ(host.call_and_wait(s, "counter.add", Json::array({Json::object({{"by", 2}})}))
                ->value()["value"]
                .as_int(),
            2);
  EXPECT_EQ(s.received.back().event, "counter");
  EXPECT_EQ(host.call_and_wait(s, "counter.nodes")->value()["nodes"].as_int(), 1);
}

// A fake Redis knowing the one script the plugin runs.
struct FakeRedis {
  std::map<std::string, int64_t> values;
  FakeRedisReply operator()(const std::vector<std::string>& argv) {
    if (argv.size() == 5 && argv[0] == "EVAL" && argv[2] == "1")
      return FakeRedisReply::integer_(values[argv[3]] += std::stoll(argv[4]));
    return FakeRedisReply::error("ERR unknown command");
  }
};

TEST(Counter, ThreeNodesShareTheValueThroughRedis) {
  FakeCluster cluster;
  FakeRedis redis;
  cluster.redis = [&](const std::vector<std::string>& argv) { return redis(argv); };
  FakeHost a(dhl_plugin_v1(), "null", {"A", &cluster});
  FakeHost b(dhl_plugin_v1(), "null", {"B", &cluster});
  FakeHost c(dhl_plugin_v1(), "null", {"C", &cluster});
  auto& sa = a.connect();
  auto& sc = c.connect();
  auto add = [](FakeHost& h, dhl::testing::FakeSocket& s, int by) {
    return h.call_and_wait(s, "counter.add", Json::array({Json::object({{"by", by}})}))
        ->value()["value"]
        .as_int();
  };
  EXPECT_EQ(add(a, sa, 2), 2);
  EXPECT_EQ(add(c, sc, 5), 7);  // C sees A's addition
  EXPECT_EQ(cluster.commands.size(), 2u);
  EXPECT_EQ(cluster.commands[0][0], "EVAL");
  EXPECT_EQ(cluster.commands[0][3], "counter:value");

  // Node messages: A asks, B and C answer (each host runs its own tasks).
  auto r = a.call(sa, "counter.nodes");
  b.run_pending();
  c.run_pending();
  ASSERT_TRUE(a.run_until([&] { return r->answered; }));
  EXPECT_EQ(r->value()["nodes"].as_int(), 3);
}

TEST(Counter, RedisDownIsACodeNotAHang) {
  FakeCluster cluster;
  FakeHost a(dhl_plugin_v1(), "null", {"A", &cluster});
  auto& s = a.connect();
  cluster.redis_up = false;
  cluster.redis = [](const std::vector<std::string>&) { return FakeRedisReply::integer_(1); };
  auto r = a.call_and_wait(s, "counter.add", Json::array({Json::object({{"by", 1}})}));
  EXPECT_EQ(r->error(), "unavailable");
  cluster.redis_up = true;
  r = a.call_and_wait(s, "counter.add", Json::array({Json::object({{"by", 1}})}));
  EXPECT_EQ(r->value()["value"].as_int(), 1);
}

TEST(Counter, NodeEventsReachTheOtherNodes) {
  FakeCluster cluster;
  FakeHost a(dhl_plugin_v1(), "null", {"A", &cluster});
  {
    FakeHost b(dhl_plugin_v1(), "null", {"B", &cluster});
    EXPECT_EQ(a.logs.back(), "<6> node joined: B");
  }
  EXPECT_EQ(a.logs.back(), "<6> node left: B");
}

}  // namespace
