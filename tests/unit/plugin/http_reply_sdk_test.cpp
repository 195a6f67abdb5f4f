// The SDK's HTTP routes with answers given later and cluster-wide counts
// (ABI 1.4: http_defer / http_reply, target_count_async), run on the fake
// host, one node and a FakeCluster of two.
#include <gtest/gtest.h>
#include <daheim/plugin.hpp>
#include <daheim/testing/fake_host.hpp>

#include <memory>
#include <string>

namespace daheim::testing {
namespace {

using dhl::Json;
using dhl::testing::FakeCluster;
using dhl::testing::FakeHost;
using dhl::testing::FakeSocket;

// POST /count with a room as the body: answers {"n", "complete"} once every
// node counted; "x-sync: 1" answers at once; the body "drop" defers and
// drops the reply.
class Counting {
 public:
  explicit Counting(dhl::Host& host)
      : host_(host),
        route_(host, "POST", "/count", 64, [this](dhl::HttpExchange& ex) { on(ex); }) {}

 private:
  void on(dhl::HttpExchange& ex) {
    if (ex.header("x-sync") == "1") {
      ex.response = {201, "application/json", R"({"sync":true})"};
      return;
    }
    if (ex.body() == "drop") {
      dhl::HttpReply dropped = ex.defer();
      return;
    }
    auto reply = std::make_shared<dhl::HttpReply>(ex.defer());
    EXPECT_TRUE(*reply);
    EXPECT_FALSE(ex.defer());  // once only
    dhl::Target target;
    target.rooms = {std::string(ex.body())};
    host_.target_count(target, [reply](int64_t n, bool complete) {
      reply->send(
          {200, "application/json", Json::object({{"n", n}, {"complete", complete}}).dump()});
    });
  }
  dhl::Host& host_;
  dhl::HttpRoute route_;
};

const dhl_plugin_desc* counting_plugin() {
  static const dhl_method none[] = {{nullptr, nullptr}};
  return dhl::detail::describe<Counting>("counting", "1.0.0", none);
}

FakeSocket user(const std::string& id) {
  FakeSocket s;
  s.user_id = id;
  return s;
}

TEST(HttpReplySdk, OneNodeAnswersAtOnceOrLaterAndChecksTheRoute) {
  FakeHost host(counting_plugin());
  ASSERT_TRUE(host.ok()) << (host.logs.empty() ? "" : host.logs.back());
  host.connect(user("a"));
  host.connect(user("a"));
  host.connect(user("b"));
  auto r = host.http("POST", "/count", "user-a");
  ASSERT_TRUE(r->answered);  // a single node counts before target_count returns
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->body, R"({"n":2,"complete":true})");
  EXPECT_EQ(host.pending_http(), 0u);

  r = host.http("POST", "/count", "user-a", {{"x-sync", "1"}});
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, R"({"sync":true})");

  r = host.http("POST", "/count", "drop");
  EXPECT_EQ(r->status, 500);
  EXPECT_EQ(r->body, R"({"error":"internalServerError"})");
  EXPECT_EQ(host.logs.back(), "<3> a deferred HTTP request was dropped without an answer");

  EXPECT_EQ(host.http("POST", "/nope")->status, 404);
  EXPECT_EQ(host.http("GET", "/count")->status, 404);
  EXPECT_EQ(host.http("POST", "/count", std::string(65, 'x'))->status, 413);
}

TEST(HttpReplySdk, ACountCoversEveryNodeAndSaysWhenOneDidNotAnswer) {
  FakeCluster cluster;
  FakeHost a(counting_plugin(), "null", {"node-a", &cluster});
  FakeHost b(counting_plugin(), "null", {"node-b", &cluster});
  a.connect(user("carol"));
  a.connect(user("carol"));
  b.connect(user("carol"));
  b.connect(user("dave"));

  auto r = b.http("POST", "/count", "user-carol");
  EXPECT_FALSE(r->answered);  // in a cluster the answer comes later
  EXPECT_EQ(b.pending_http(), 1u);
  ASSERT_TRUE(b.run_until([&] { return r->answered; }));
  EXPECT_EQ(r->body, R"({"n":3,"complete":true})");
  EXPECT_EQ(b.pending_http(), 0u);

  cluster.silent.insert(&b);
  r = a.http("POST", "/count", "user-carol");
  ASSERT_TRUE(a.run_until([&] { return r->answered; }));
  EXPECT_EQ(r->body, R"({"n":2,"complete":false})");
}

}  // namespace
}  // namespace daheim::testing
