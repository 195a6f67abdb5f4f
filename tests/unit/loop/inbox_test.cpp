// loop::Inbox without a libwebsockets context: posts from many threads run in
// order on drain(); close() refuses further posts; a lane's tasks run early,
// are dropped by tag, or go with the lane, also from inside a drain.
#include "loop/inbox.hpp"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>
#include <thread>
#include <vector>

namespace daheim::loop {
namespace {

TEST(Inbox, RunsPostsInOrderOnDrain) {
  Inbox inbox;
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(inbox.post([&ran, i] { ran.push_back(i); }));
  EXPECT_TRUE(ran.empty());
  EXPECT_EQ(inbox.drain(), 5u);
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(inbox.drain(), 0u);  // spurious wake-ups are cheap and harmless
  EXPECT_EQ(ran.size(), 5u);
}

TEST(Inbox, PostsFromThreadsWhileDraining) {
  Inbox inbox;
  Inbox::Lane lane(inbox);
  std::atomic<int> count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 1000; ++i) {
        if (t % 2)
          inbox.post([&count] { ++count; });
        else
          lane.post(nullptr, [&count] { ++count; });
      }
    });
  while (count.load() < 4000) inbox.drain();
  for (auto& t : threads) t.join();
  EXPECT_EQ(count.load(), 4000);
}

TEST(Inbox, ATaskMayPostAnother) {
  Inbox inbox;
  int ran = 0;
  inbox.post([&] {
    ++ran;
    inbox.post([&] { ++ran; });
  });
  inbox.drain();
  EXPECT_EQ(ran, 1);
  inbox.drain();
  EXPECT_EQ(ran, 2);
}

TEST(Inbox, CloseRefusesPostsButLanesStillQueue) {
  Inbox inbox;
  Inbox::Lane lane(inbox);
  inbox.close();
  EXPECT_FALSE(inbox.post([] {}));
  int ran = 0;
  EXPECT_TRUE(lane.post(nullptr, [&] { ++ran; }));
  lane.run();
  EXPECT_EQ(ran, 1);
}

TEST(Inbox, LaneInterleavesWithPlainPostsInPostingOrder) {
  Inbox inbox;
  Inbox::Lane lane(inbox);
  std::vector<int> ran;
  inbox.post([&] { ran.push_back(1); });
  lane.post(nullptr, [&] { ran.push_back(2); });
  inbox.post([&] { ran.push_back(3); });
  EXPECT_EQ(inbox.drain(), 3u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 3}));
}

TEST(Inbox, LaneRunTakesOnlyItsOwnTasks) {
  Inbox inbox;
  Inbox::Lane lane(inbox);
  std::vector<int> ran;
  inbox.post([&] { ran.push_back(1); });
  lane.post(nullptr, [&] { ran.push_back(2); });
  lane.post(nullptr, [&] { ran.push_back(3); });
  lane.run();
  EXPECT_EQ(ran, (std::vector<int>{2, 3}));
  EXPECT_EQ(inbox.drain(), 1u);
  EXPECT_EQ(ran, (std::vector<int>{2, 3, 1}));
}

TEST(Inbox, ClosedLaneRefusesButKeepsWhatItHas) {
  Inbox inbox;
  Inbox::Lane lane(inbox);
  int ran = 0;
  EXPECT_TRUE(lane.post(nullptr, [&] { ++ran; }));
  lane.close();
  EXPECT_FALSE(lane.post(nullptr, [&] { ++ran; }));
  EXPECT_TRUE(inbox.post([] {}));  // the inbox itself stays open
  lane.run();
  EXPECT_EQ(ran, 1);
}

TEST(Inbox, DiscardDropsOneTagUnrun) {
  Inbox inbox;
  Inbox::Lane lane(inbox);
  int a = 0, b = 0;
  auto token = std::make_shared<int>(0);
  lane.post(&a, [&a, token] { ++a; });
  lane.post(&b, [&b] { ++b; });
  lane.post(&a, [&a] { ++a; });
  lane.discard(&a);
  EXPECT_EQ(token.use_count(), 1);  // the dropped task is destroyed now
  EXPECT_EQ(inbox.drain(), 1u);
  EXPECT_EQ(a, 0);
  EXPECT_EQ(b, 1);
}

TEST(Inbox, DestroyedLaneLeavesNothingBehind) {
  Inbox inbox;
  int ran = 0;
  {
    Inbox::Lane lane(inbox);
    lane.post(nullptr, [&] { ++ran; });
  }
  EXPECT_EQ(inbox.drain(), 0u);
  EXPECT_EQ(ran, 0);
}

// A task that shuts its lane down (the plugin host's shutdown runs on the
// loop) runs the lane's later tasks at once, and only once.
TEST(Inbox, LaneRunInsideADrainTakesTheRestOfTheBatch) {
  Inbox inbox;
  Inbox::Lane lane(inbox);
  std::vector<int> ran;
  inbox.post([&] {
    ran.push_back(1);
    lane.run();
  });
  lane.post(nullptr, [&] { ran.push_back(2); });
  inbox.post([&] { ran.push_back(3); });
  lane.post(nullptr, [&] { ran.push_back(4); });
  EXPECT_EQ(inbox.drain(), 2u);
  EXPECT_EQ(ran, (std::vector<int>{1, 2, 4, 3}));
}

TEST(Inbox, LaneDestroyedInsideADrainDropsItsRest) {
  Inbox inbox;
  auto lane = std::make_unique<Inbox::Lane>(inbox);
  std::vector<int> ran;
  inbox.post([&] {
    ran.push_back(1);
    lane.reset();
  });
  lane->post(nullptr, [&] { ran.push_back(2); });
  inbox.post([&] { ran.push_back(3); });
  EXPECT_EQ(inbox.drain(), 2u);
  EXPECT_EQ(ran, (std::vector<int>{1, 3}));
}

}  // namespace
}  // namespace daheim::loop
