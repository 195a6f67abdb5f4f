// Dispatch through the real host: two SDK plugins ("first", "second")
// loaded into plugin::Host over fake Engine.IO sessions on a fake clock.
// Wire frames are checked exactly.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <string>
#include <vector>

#include "harness.hpp"
#include "plugin/host.hpp"
#include "plugin_test_util.hpp"

namespace daheim::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;
using Frames = std::vector<std::string>;

class DispatchTest : public ::testing::Test {
 protected:
  void SetUp() override { start({}); }

  void start(plugin::HostOptions options) {
    host = std::make_unique<plugin::Host>(h.server, inbox, options);
    ASSERT_EQ(host->load({{fixture("calls_first"), R"({"k":1})"}, {fixture("calls_second"), ""}}),
              "");
    host->install(h.server.of("/"));
  }

  std::unique_ptr<Peer> join(std::vector<engineio::Header> query = {}) {
    auto p = h.open();
    engineio::HeaderList pairs;
    for (auto& [name, value] : query) pairs.add(name, value);
    p->conn.handshake_ = engineio::Handshake("", "", {}, pairs);
    p->send("40");
    p->take();
    return p;
  }

  // Runs posted work until `p` has received `n` frames.
  Frames wait_frames(Peer& p, std::size_t n) {
    Frames got;
    inbox.run_until([&] {
      for (auto& f : p.take()) got.push_back(f);
      return got.size() >= n;
    });
    return got;
  }

  // The counters of one method ("$first.echo").
  const plugin::CallStats& stats_of(std::string_view method) {
    for (const auto& m : host->stats().methods)
      if (m.name == method) return *m.stats;
    ADD_FAILURE() << "no method " << method;
    static const plugin::CallStats none;
    return none;
  }

  Harness h;
  ManualInbox inbox;
  std::unique_ptr<plugin::Host> host;
};

TEST_F(DispatchTest, EventGoesToTheDollarMethodAndItsValueIsTheAck) {
  auto p = join();
  p->send(R"(421["first.echo",1,"a",{"b":[true,null]}])");
  EXPECT_EQ(p->take(), Frames{R"(431[1,"a",{"b":[true,null]}])"});
  p->send(R"(422["second.value"])");
  EXPECT_EQ(p->take(), Frames{R"(432[{"from":"second"}])"});
  p->send(R"(423["shared"])");
  EXPECT_EQ(p->take(), Frames{R"(433[{"from":"first"}])"});
}

TEST_F(DispatchTest, PluginsSendEachOtherMessagesThroughTheHost) {
  StderrCapture err;
  auto p = join();
  p->send(R"(421["first.tell","second","hello",{"n":3}])");
  EXPECT_EQ(p->take(), Frames{"431[3]"});
  // No such plugin, and a plugin cannot message itself.
  p->send(R"(422["first.tell","nobody","x",{}])");
  EXPECT_EQ(p->take(), Frames{"432[-7]"});
  p->send(R"(423["first.tell","first","x",{}])");
  EXPECT_EQ(p->take(), Frames{"433[-7]"});
  // Messages answering messages are cut after 8 levels; a throw is INVALID.
  p->send(R"(424["second.tell","first","bounce",{}])");
  EXPECT_EQ(p->take(), Frames{"434[-3]"});
  p->send(R"(425["second.tell","first","throw",{}])");
  EXPECT_EQ(p->take(), Frames{"435[-1]"});
  std::string log = err.take();
  EXPECT_THAT(log, HasSubstr(R"(second message from first hello {"n":3})"));
  EXPECT_THAT(log, HasSubstr("first message from second bounce {}"));
  EXPECT_THAT(log, HasSubstr("onMessage threw: no"));
}

TEST_F(DispatchTest, NoHandlerAnswersUnhandled) {
  StderrCapture err;
  auto p = join();
  p->send(R"(427["nope",1])");
  p->send(R"(42["nope"])");
  p->send(R"(428["$first.echo"])");  // the client's name has no "$"
  EXPECT_EQ(p->take(), (Frames{R"(437[{"error":"unhandled"}])", R"(438[{"error":"unhandled"}])"}));
  EXPECT_THAT(err.take(), HasSubstr("unhandled event \"nope\""));
}

TEST_F(DispatchTest, NothingReturnedWithAckAnswersNullAndWarns) {
  StderrCapture err;
  auto p = join();
  p->send(R"(424["first.nothing"])");
  EXPECT_EQ(p->take(), Frames{"434[null]"});
  EXPECT_THAT(
      err.take(),
      HasSubstr("plugin first: $first.nothing returned nothing but the client expects an ack"));
}

TEST_F(DispatchTest, ResultWithoutAckIsDroppedWithAWarning) {
  StderrCapture err;
  auto p = join();
  p->send(R"(42["first.value"])");
  p->send(R"(42["first.nothing"])");
  EXPECT_THAT(p->take(), IsEmpty());
  std::string log = err.take();
  EXPECT_THAT(log, HasSubstr("$first.value returned a result but the client asked for no ack"));
  EXPECT_THAT(log, Not(HasSubstr("first.nothing")));
}

TEST_F(DispatchTest, CodedErrorAndCrashBecomeErrorAcks) {
  StderrCapture err;
  auto p = join();
  p->send(R"(425["first.coded"])");
  p->send(R"(426["first.crash"])");
  p->send(R"(427["first.echo","still here"])");
  EXPECT_EQ(p->take(), (Frames{R"(435[{"error":"notAllowed"}])",
                               R"(436[{"error":"internalServerError"}])", R"(437["still here"])"}));
  EXPECT_THAT(err.take(), HasSubstr("plugin first: method threw: boom"));
}

TEST_F(DispatchTest, DeferredReplyFromAThreadReachesTheLoop) {
  auto p = join();
  p->send(R"(429["first.later",20,{"x":1}])");
  EXPECT_THAT(p->take(), IsEmpty());
  EXPECT_EQ(host->pending_calls(), 1u);
  EXPECT_EQ(wait_frames(*p, 1), Frames{R"(439[{"x":1}])"});
  EXPECT_EQ(host->pending_calls(), 0u);
}

TEST_F(DispatchTest, ACallIsAnsweredAtMostOnce) {
  auto p = join();
  p->send(R"(4212["first.twice"])");
  // The second answer reports DHL_ERR_DONE (-5).
  EXPECT_EQ(wait_frames(*p, 2), (Frames{"4312[1]", R"(42["rc",0,-5])"}));
}

TEST_F(DispatchTest, ReplyForASocketThatLeftIsDropped) {
  auto p = join();
  p->send(R"(4213["first.later",30,"late"])");
  p->send("41");  // leaves the namespace
  const plugin::CallStats& later = stats_of("$first.later");
  ASSERT_TRUE(inbox.run_until([&] { return host->pending_calls() == 0; }));
  inbox.run();
  EXPECT_THAT(p->take(), IsEmpty());
  EXPECT_EQ(later.count(plugin::CallOutcome::Dropped), 1u);
  EXPECT_EQ(later.count(plugin::CallOutcome::Ok), 0u);
}

TEST_F(DispatchTest, ReplyAfterTheConnectionIsFreedTouchesNothing) {
  auto p = join();
  p->send(R"(4214["first.later",30,"late"])");
  EXPECT_EQ(h.server.of("/").size(), 1u);
  p->conn.close(engineio::CloseReason::TransportClose);
  p.reset();  // the Client and its Socket are freed
  EXPECT_EQ(h.server.of("/").size(), 0u);
  const plugin::CallStats& later = stats_of("$first.later");
  EXPECT_EQ(later.pending, 1);
  ASSERT_TRUE(inbox.run_until([&] { return host->pending_calls() == 0; }));
  inbox.run();  // the answer is applied: the socket is looked up and not found
  // The answer was counted as dropped, not sent (ASan runs of this suite see any touch of the
  // freed Client).
  EXPECT_EQ(later.pending, 0);
  EXPECT_EQ(later.count(plugin::CallOutcome::Dropped), 1u);
  EXPECT_EQ(later.count(plugin::CallOutcome::Ok), 0u);
  EXPECT_EQ(later.latency.count(), 0u);
}

TEST_F(DispatchTest, TimerAnswersOnTheLoopAndMayDestroyItself) {
  auto p = join();
  p->send(R"(4210["first.timed",30])");
  h.timers.advance(loop::Millis(29));
  EXPECT_THAT(p->take(), IsEmpty());
  h.timers.advance(loop::Millis(1));
  EXPECT_EQ(p->take(), Frames{R"(4310["timer"])"});
  p->send(R"(4211["first.echo"])");  // frees the destroyed timer
  EXPECT_EQ(p->take(), Frames{"4311[]"});
}

TEST_F(DispatchTest, InvalidJsonFromAPluginIsRefused) {
  auto p = join();
  p->send(R"(4215["first.invalid"])");
  EXPECT_EQ(p->take(), Frames{"4315[[-1,-1]]"});
}

TEST_F(DispatchTest, BinaryArgumentsRoundTrip) {
  auto p = join();
  p->send(R"(451-["first.binary",{"_placeholder":true,"num":0}])");
  p->send_binary("\x01\x02xyz");
  EXPECT_EQ(p->take(),
            (Frames{R"(451-["bin",{"_placeholder":true,"num":0}])", "<bin:\x01\x02xyz>"}));
}

TEST_F(DispatchTest, ConnectAndDisconnectRunInLoadOrder) {
  StderrCapture err;
  auto p = join();
  p->send("41");
  std::string log = err.take();
  auto at = [&](const std::string& s) { return log.find(s); };
  ASSERT_NE(at("first connect"), std::string::npos);
  EXPECT_LT(at("first connect"), at("second connect"));
  EXPECT_LT(at("second connect"), at("first disconnect client namespace disconnect"));
  EXPECT_LT(at("first disconnect"), at("second disconnect client namespace disconnect"));
}

TEST_F(DispatchTest, OnlyPluginsThatSawTheConnectSeeTheDisconnect) {
  StderrCapture err;
  auto p = join({{"kick", "1"}});  // "first" disconnects it in on_connect
  std::string log = err.take();
  EXPECT_THAT(log, HasSubstr("first connect"));
  EXPECT_THAT(log, HasSubstr("first disconnect server namespace disconnect"));
  EXPECT_THAT(log, Not(HasSubstr("second connect")));
  EXPECT_THAT(log, Not(HasSubstr("second disconnect")));
}

TEST_F(DispatchTest, UserClaimsAndTheUserRoom) {
  host->set_user_lookup([](const socketio::Socket&) {
    return plugin::SocketUser{"42", R"({"sub":"42","role":"teacher"})"};
  });
  auto p = join({{"token", "t0k"}});
  std::vector<std::string> rooms = Harness::socket_of(*p).rooms();
  EXPECT_NE(std::find(rooms.begin(), rooms.end(), "user-42"), rooms.end());
  p->send(R"(4216["first.info"])");
  std::string id(Harness::socket_of(*p).id());
  EXPECT_EQ(p->take(),
            Frames{R"(4316[{"id":")" + id +
                   R"(","user":"42","claims":{"sub":"42","role":"teacher"},"token":"t0k"}])"});
}

TEST(ServerMethods, AnswerLikePluginsAndCannotBeRedefined) {
  Harness h;
  ManualInbox inbox;
  plugin::Host host(h.server, inbox);
  EXPECT_TRUE(host.add_method("shared", [](socketio::Socket& s, socketio::Event& e) {
    if (e.ack_id) s.ack(*e.ack_id, R"(["server"])");
  }));
  EXPECT_FALSE(host.add_method("shared", nullptr));
  EXPECT_EQ(host.load({{fixture("calls_first"), ""}}),
            "plugin " + fixture("calls_first") + ": method $shared is also defined by the server");
  EXPECT_EQ(host.load({{fixture("calls_second"), ""}}), "");
  host.install(h.server.of("/"));
  auto p = h.join();
  p->send(R"(421["shared"])");
  p->send(R"(422["second.value"])");
  EXPECT_EQ(p->take(), (Frames{R"(431["server"])", R"(432[{"from":"second"}])"}));
}

TEST_F(DispatchTest, TooManyPendingCallsAreRefused) {
  host.reset();
  start({.max_pending_calls = 2});
  auto p = join();
  p->send(R"(421["first.later",50,1])");
  p->send(R"(422["first.later",50,2])");
  p->send(R"(423["first.later",50,3])");
  EXPECT_EQ(p->take(), Frames{R"(433[{"error":"overloaded"}])"});
  Frames later = wait_frames(*p, 2);
  std::sort(later.begin(), later.end());
  EXPECT_EQ(later, (Frames{"431[1]", "432[2]"}));
  const plugin::CallStats& later_stats = stats_of("$first.later");
  EXPECT_EQ(later_stats.count(plugin::CallOutcome::Overloaded), 1u);
  EXPECT_EQ(later_stats.count(plugin::CallOutcome::Ok), 2u);
  EXPECT_EQ(later_stats.latency.count(), 2u);
}

TEST_F(DispatchTest, CallsAreCountedByOutcome) {
  StderrCapture err;
  auto p = join();
  p->send(R"(421["first.echo"])");
  p->send(R"(42["first.echo"])");  // no ack: still a call answered
  p->send(R"(422["first.coded"])");
  p->send(R"(423["first.crash"])");
  p->send(R"(424["nope"])");
  EXPECT_EQ(p->take().size(), 4u);
  using plugin::CallOutcome;
  const plugin::CallStats& echo = stats_of("$first.echo");
  EXPECT_EQ(echo.count(CallOutcome::Ok), 2u);
  EXPECT_EQ(echo.count(CallOutcome::Error), 0u);
  EXPECT_EQ(echo.latency.count(), 2u);
  EXPECT_EQ(stats_of("$first.coded").count(CallOutcome::Error), 1u);
  EXPECT_EQ(stats_of("$first.crash").count(CallOutcome::Error), 1u);
  EXPECT_EQ(stats_of("$first.crash").latency.count(), 1u);
  EXPECT_EQ(stats_of("$second.value").count(CallOutcome::Ok), 0u);
  EXPECT_EQ(host->stats().unhandled_events, 1u);
}

TEST_F(DispatchTest, DeferredCallsArePendingUntilAnsweredAndTimedToTheAnswer) {
  auto p = join();
  p->send(R"(421["first.later",30,1])");
  const plugin::CallStats& later = stats_of("$first.later");
  EXPECT_EQ(later.pending, 1);
  EXPECT_EQ(later.latency.count(), 0u);
  wait_frames(*p, 1);
  EXPECT_EQ(later.pending, 0);
  EXPECT_EQ(later.count(plugin::CallOutcome::Ok), 1u);
  EXPECT_GE(later.latency.sum_seconds(), 0.030);
  EXPECT_EQ(later.latency.buckets()[7], 0u);  // not within 10 ms
  p->send(R"(422["first.later",30,2])");
  p->send("41");  // leaves: the answer is dropped, and not timed
  inbox.run_until([&] { return later.pending == 0; });
  EXPECT_EQ(later.count(plugin::CallOutcome::Dropped), 1u);
  EXPECT_EQ(later.latency.count(), 1u);
}

TEST_F(DispatchTest, HooksAreCountedPerPlugin) {
  auto p = join();
  p->send("41");
  auto q = join();
  plugin::StatsView v = host->stats();
  ASSERT_EQ(v.plugins.size(), 2u);
  EXPECT_EQ(v.plugins[0].name, "first");
  EXPECT_EQ(v.plugins[0].hooks->connects, 2u);
  EXPECT_EQ(v.plugins[0].hooks->disconnects, 1u);
  EXPECT_EQ(v.plugins[1].hooks->connects, 2u);
}

TEST_F(DispatchTest, ShutdownWithCallsInFlightThenEventsAreIgnored) {
  StderrCapture err;
  auto p = join();
  p->send(R"(421["first.later",20,1])");
  host->shutdown();  // joins the plugin's thread; its answer is dropped
  p->send(R"(422["first.echo"])");
  inbox.run();
  EXPECT_THAT(p->take(), IsEmpty());
  std::string log = err.take();
  EXPECT_THAT(log, HasSubstr("first disconnect server shutting down"));
  EXPECT_LT(log.find("second disconnect server shutting down"), log.find("second shutdown"));
  EXPECT_THAT(log, HasSubstr("second shutdown"));
  EXPECT_LT(log.find("second shutdown"), log.find("first shutdown"));  // reverse order
}

}  // namespace
}  // namespace daheim::testing
