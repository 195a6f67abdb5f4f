// transport::LoopInbox without a libwebsockets context: posts from many
// threads run in order on drain(); close() refuses further posts.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>
#include <vector>

#include "transport/loop_inbox.hpp"

namespace daheim::testing {
namespace {

TEST(LoopInbox, RunsPostsInOrderOnDrain) {
  transport::LoopInbox inbox;
  std::vector<int> ran;
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(inbox.post([&ran, i] { ran.push_back(i); }));
  EXPECT_TRUE(ran.empty());
  inbox.drain();
  EXPECT_EQ(ran, (std::vector<int>{0, 1, 2, 3, 4}));
  inbox.drain();  // spurious wake-ups are cheap and harmless
  EXPECT_EQ(ran.size(), 5u);
}

TEST(LoopInbox, PostsFromThreadsWhileDraining) {
  transport::LoopInbox inbox;
  std::atomic<int> count{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) inbox.post([&count] { ++count; });
    });
  while (count.load() < 4000) inbox.drain();
  for (auto& t : threads) t.join();
  EXPECT_EQ(count.load(), 4000);
}

TEST(LoopInbox, ATaskMayPostAnother) {
  transport::LoopInbox inbox;
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

TEST(LoopInbox, CloseRefusesPosts) {
  transport::LoopInbox inbox;
  inbox.close();
  EXPECT_FALSE(inbox.post([] {}));
}

}  // namespace
}  // namespace daheim::testing
