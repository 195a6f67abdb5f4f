#include "engineio/frame_queue.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace daheim::engineio {
namespace {

FramePtr frame(int i) {
  return make_text_frame(PacketType::Message, std::to_string(i));
}

std::string text(const Frame& f) {
  return std::string(f.bytes.substr(kFrameHeadroom));
}

TEST(FrameQueue, OneFrameAtATimeNeverAllocates) {
  FrameQueue q;
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.capacity(), 0u);
  for (int i = 0; i < 3; ++i) {
    q.push_back(frame(i));
    EXPECT_EQ(q.capacity(), 0u);  // in the queue itself
    EXPECT_EQ(text(*q.front()), "4" + std::to_string(i));
    EXPECT_EQ(text(*q.pop_front()), "4" + std::to_string(i));
  }
  q.push_back(frame(1));
  q.push_back(frame(2));
  EXPECT_EQ(q.capacity(), FrameQueue::kFirstHeapSlots);
  EXPECT_EQ(text(*q.pop_front()), "41");
  EXPECT_EQ(text(*q.front()), "42");
}

TEST(FrameQueue, FirstInFirstOutAcrossWrapAndGrowth) {
  FrameQueue q;
  int next_in = 0, next_out = 0;
  // Interleave so the ring wraps before it grows, several times over.
  for (int round = 0; round < 50; ++round) {
    for (int i = 0; i < round % 7 + 1; ++i) q.push_back(frame(next_in++));
    for (int i = 0; i < round % 5 && !q.empty(); ++i)
      EXPECT_EQ(text(*q.pop_front()), "4" + std::to_string(next_out++));
  }
  std::vector<std::string> rest;
  q.for_each([&rest](const Frame& f) { rest.push_back(text(f)); });
  ASSERT_EQ(rest.size(), q.size());
  for (const auto& r : rest) EXPECT_EQ(r, "4" + std::to_string(next_out++));
  EXPECT_EQ(next_out, next_in);
}

TEST(FrameQueue, GivesBackBigStorageOnceDrained) {
  FrameQueue q;
  for (int i = 0; i < 100; ++i) q.push_back(frame(i));
  EXPECT_GE(q.capacity(), 100u);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(text(*q.pop_front()), "4" + std::to_string(i));
  EXPECT_EQ(q.capacity(), 0u);
  q.push_back(frame(1));
  q.push_back(frame(2));
  EXPECT_EQ(q.capacity(), FrameQueue::kFirstHeapSlots);
  q.pop_front();
  EXPECT_EQ(q.capacity(), FrameQueue::kFirstHeapSlots);
  q.pop_front();
  EXPECT_EQ(q.capacity(), 0u);  // an idle session keeps no heap storage
}

TEST(FrameQueue, ClearDropsEveryFrame) {
  FrameQueue q;
  FramePtr shared = frame(7);
  for (int i = 0; i < 10; ++i) q.push_back(shared);
  EXPECT_EQ(shared.use_count(), 11);
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(shared.use_count(), 1);
}

// Every session has one: the inline frame and the ring's pointer only.
TEST(FrameQueue, IsThreeWordsAndVisitsTheInlineFrame) {
  static_assert(sizeof(FrameQueue) == 24);
  FrameQueue q;
  std::vector<std::string> seen;
  q.for_each([&seen](const Frame& f) { seen.push_back(text(f)); });
  EXPECT_TRUE(seen.empty());
  q.push_back(frame(5));
  EXPECT_EQ(q.size(), 1u);
  q.for_each([&seen](const Frame& f) { seen.push_back(text(f)); });
  EXPECT_EQ(seen, std::vector<std::string>{"45"});
  q.clear();
  EXPECT_TRUE(q.empty());
  EXPECT_EQ(q.pop_front(), nullptr);  // empty: nothing, and still empty
  EXPECT_TRUE(q.empty());
}

}  // namespace
}  // namespace daheim::engineio
