#include "loop/timer.hpp"

#include <gtest/gtest.h>

#include <memory>
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

}  // namespace
}  // namespace daheim::loop
