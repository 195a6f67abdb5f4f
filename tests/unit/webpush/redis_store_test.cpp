// RedisStore (plugins/webpush) on the fake host's FakeCluster: the exact
// Redis commands each operation sends and how each reply is read. The
// scripts themselves run in a real redis-server in the cluster e2e test
// (tests/e2e/cluster-webpush.test.mjs).
#include "redis_store.hpp"

#include <daheim/testing/fake_host.hpp>

#include <gtest/gtest.h>

namespace webpush {
namespace {

using dhl::testing::FakeRedisReply;
using Argv = std::vector<std::string>;

// A subscription with the 65-byte P-256 point and 16-byte auth secret of RFC 8291 Appendix A.
constexpr std::string_view kJson =
    R"({"endpoint":"https://push.example/1","keys":{"p256dh":"BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4","auth":"BTBZMqHH6r4Tts7J_aSIgg"}})";

Subscription sub() {
  std::string error;
  std::optional<Subscription> s = parse_subscription(*dhl::Json::parse(kJson), false, error);
  EXPECT_TRUE(s) << error;
  return *s;
}

// A plugin that only holds a RedisStore, so the store gets a real dhl::Host.
struct Probe {
  explicit Probe(dhl::Host& host) : store(host, "wp", 3, 100) { current = this; }
  ~Probe() { current = nullptr; }
  static inline Probe* current = nullptr;
  RedisStore store;
};

class RedisStoreTest : public ::testing::Test {
 protected:
  RedisStoreTest() {
    cluster_.redis = [this](const Argv& argv) {
      seen_.push_back(argv);
      return reply_;
    };
  }
  StoreResult add_one() {
    std::optional<StoreResult> got;
    store_.add("42", sub(), [&](StoreResult r) { got = r; });
    node_.run_until([&] { return got.has_value(); });
    return got.value_or(StoreResult::Unavailable);
  }

  dhl::testing::FakeCluster cluster_;
  dhl::testing::FakeHost node_{dhl_plugin_v1(), "null", {"n1", &cluster_}};
  RedisStore& store_ = Probe::current->store;
  FakeRedisReply reply_ =
      FakeRedisReply::array({FakeRedisReply::integer_(1), FakeRedisReply::integer_(7)});
  std::vector<Argv> seen_;
};

TEST_F(RedisStoreTest, AddRunsTheCapScriptWithThePrefixUserEndpointJsonAndLimits) {
  EXPECT_EQ(add_one(), StoreResult::Done);
  ASSERT_EQ(seen_.size(), 1u);
  EXPECT_EQ(seen_[0], (Argv{"EVAL", RedisStore::add_script(), "0", "wp", "42",
                            "https://push.example/1", std::string(kJson), "3", "100"}));
  EXPECT_EQ(store_.size(), 7u);  // the total the script saw
  EXPECT_NE(RedisStore::add_script().find("redis.call('HSET', hash(user), ep, json)"),
            std::string::npos);
}

TEST_F(RedisStoreTest, AddAnswersFullAndUnavailable) {
  reply_ = FakeRedisReply::array({FakeRedisReply::integer_(0), FakeRedisReply::integer_(100)});
  EXPECT_EQ(add_one(), StoreResult::Full);
  reply_ = FakeRedisReply::error("ERR boom");
  EXPECT_EQ(add_one(), StoreResult::Unavailable);
  cluster_.redis_up = false;
  EXPECT_EQ(add_one(), StoreResult::Unavailable);  // at once
  EXPECT_EQ(seen_.size(), 2u);
}

TEST_F(RedisStoreTest, RemoveSendsPrefixUserEndpointAndReadsRemoved) {
  for (int64_t removed : {1, 0}) {
    reply_ =
        FakeRedisReply::array({FakeRedisReply::integer_(removed), FakeRedisReply::integer_(4)});
    std::optional<StoreResult> got;
    store_.remove("42", "https://push.example/1", [&](StoreResult r) { got = r; });
    node_.run_until([&] { return got.has_value(); });
    EXPECT_EQ(got, removed ? StoreResult::Done : StoreResult::Missing);
    EXPECT_EQ(seen_.back(), (Argv{"EVAL", RedisStore::remove_script(), "0", "wp", "42",
                                  "https://push.example/1"}));
  }
  EXPECT_EQ(store_.size(), 4u);
}

TEST_F(RedisStoreTest, ListReadsTheUsersHashAndSkipsWhatIsNotASubscription) {
  reply_ = FakeRedisReply::array({FakeRedisReply::string(std::string(kJson)),
                                  FakeRedisReply::string("{not json"),
                                  FakeRedisReply::string(R"({"endpoint":"https://x"})")});
  std::optional<std::vector<Subscription>> got;
  store_.list("a#b", [&](std::vector<Subscription> s) { got = std::move(s); });
  node_.run_until([&] { return got.has_value(); });
  EXPECT_EQ(seen_.back(), (Argv{"HVALS", "wp#u#a#b"}));
  ASSERT_EQ(got->size(), 1u);
  EXPECT_EQ((*got)[0].endpoint, "https://push.example/1");
  EXPECT_EQ((*got)[0].to_json().dump(), kJson);

  cluster_.redis_up = false;
  got.reset();
  store_.list("a", [&](std::vector<Subscription> s) { got = std::move(s); });
  ASSERT_TRUE(got.has_value());  // at once, empty
  EXPECT_TRUE(got->empty());
}

}  // namespace
}  // namespace webpush

DHL_PLUGIN(webpush::Probe, "probe", "1.0.0")
