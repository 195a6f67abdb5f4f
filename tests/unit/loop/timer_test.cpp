#include "loop/timer.hpp"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "fake_timer_queue.hpp"

namespace daheim::loop {
namespace {

class TimerTest : public ::testing::Test {
 protected:
  daheim::testing::FakeTimerQueue clock;
  std::vector<int> fired;
  Millis since_start() const {
    return std::chrono::duration_cast<Millis>(clock.now() - TimePoint{});
  }
};

TEST_F(TimerTest, FiresOnceAtItsDeadline) {
  Timer t(clock, [&] { fired.push_back(static_cast<int>(since_start().count())); });
  EXPECT_FALSE(t.armed());
  t.arm(Millis(100));
  EXPECT_TRUE(t.armed());
  clock.advance(Millis(99));
  EXPECT_TRUE(fired.empty());
  clock.advance(Millis(1));
  EXPECT_EQ(fired, std::vector<int>{100});
  EXPECT_FALSE(t.armed());
  clock.advance(Millis(1000));
  EXPECT_EQ(fired.size(), 1u);
}

TEST_F(TimerTest, RearmReplacesTheDeadline) {
  Timer t(clock, [&] { fired.push_back(static_cast<int>(since_start().count())); });
  t.arm(Millis(100));
  clock.advance(Millis(50));
  t.arm(Millis(100));
  EXPECT_EQ(clock.pending(), 1u);
  clock.advance(Millis(99));
  EXPECT_TRUE(fired.empty());
  clock.advance(Millis(1));
  EXPECT_EQ(fired, std::vector<int>{150});
}

TEST_F(TimerTest, DisarmCancels) {
  Timer t(clock, [&] { fired.push_back(1); });
  t.arm(Millis(10));
  t.disarm();
  EXPECT_FALSE(t.armed());
  EXPECT_EQ(clock.pending(), 0u);
  clock.advance(Millis(100));
  EXPECT_TRUE(fired.empty());
  t.disarm();  // harmless when not armed
}

TEST_F(TimerTest, DestroyingAnArmedTimerCancelsIt) {
  auto t = std::make_unique<Timer>(clock, [&] { fired.push_back(1); });
  t->arm(Millis(10));
  t.reset();
  EXPECT_EQ(clock.pending(), 0u);
  clock.advance(Millis(100));
  EXPECT_TRUE(fired.empty());
}

TEST_F(TimerTest, TimersFireInDeadlineOrderAndMayRearmThemselves) {
  Timer a(clock, [&] { fired.push_back(1); });
  Timer* self = nullptr;
  int count = 0;
  Timer b(clock, [&] {
    fired.push_back(2);
    if (++count < 3) self->arm(Millis(30));
  });
  self = &b;
  b.arm(Millis(20));
  a.arm(Millis(50));
  clock.advance(Millis(200));
  // b at 20 (re-armed for 50), a at 50 (armed earlier for that deadline),
  // b at 50 (re-armed for 80), b at 80 (not re-armed).
  EXPECT_EQ(fired, (std::vector<int>{2, 1, 2, 2}));
  EXPECT_EQ(count, 3);
}

// A callable of one word lives in the timer; a bigger one on the heap, freed
// with the timer (the ASan build checks the free); both fire the same way.
TEST_F(TimerTest, SmallCallablesAreKeptInlineAndLargeOnesStillFire) {
  static_assert(sizeof(Timer) <= 40, "a timer is five words at most");
  int small_hits = 0;
  Timer small(clock, [&small_hits] { ++small_hits; });
  auto shared = std::make_shared<int>(7);
  std::string label = "a label longer than the small-string buffer";
  std::vector<std::string> seen;
  {
    Timer large(clock, [&seen, shared, label] { seen.push_back(label + std::to_string(*shared)); });
    small.arm(Millis(10));
    large.arm(Millis(20));
    EXPECT_EQ(shared.use_count(), 2);
    clock.advance(Millis(20));
    large.arm(Millis(5));
  }
  EXPECT_EQ(shared.use_count(), 1);  // the large callable went with its timer
  clock.advance(Millis(100));
  EXPECT_EQ(small_hits, 1);
  EXPECT_EQ(seen, std::vector<std::string>{label + "7"});
}

}  // namespace
}  // namespace daheim::loop
