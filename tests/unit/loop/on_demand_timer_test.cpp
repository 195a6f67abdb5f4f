#include "loop/on_demand_timer.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "fake_timer_queue.hpp"

namespace daheim::loop {
namespace {

struct Owner {
  void fire() {
    fired.push_back(
        static_cast<int>(std::chrono::duration_cast<Millis>(queue->now() - TimePoint{}).count()));
    if (release_when_fired) timer.release();
    if (rearm_when_fired) timer.arm(*this, *queue, Millis(10));
  }

  daheim::testing::FakeTimerQueue* queue = nullptr;
  std::vector<int> fired;
  bool release_when_fired = false;
  bool rearm_when_fired = false;
  OnDemandTimer<Owner, &Owner::fire> timer;
};

class OnDemandTimerTest : public ::testing::Test {
 protected:
  void SetUp() override { owner.queue = &clock; }
  daheim::testing::FakeTimerQueue clock;
  Owner owner;
};

TEST_F(OnDemandTimerTest, HoldsNoTimerUntilArmed) {
  static_assert(sizeof(OnDemandTimer<Owner, &Owner::fire>) == sizeof(void*));
  EXPECT_FALSE(owner.timer.allocated());
  EXPECT_FALSE(owner.timer.armed());
  owner.timer.release();  // harmless with none
  EXPECT_FALSE(owner.timer.allocated());
  EXPECT_EQ(clock.pending(), 0u);
}

TEST_F(OnDemandTimerTest, ArmAllocatesAndFiresTheOwnersMemberOnce) {
  owner.timer.arm(owner, clock, Millis(100));
  EXPECT_TRUE(owner.timer.allocated());
  EXPECT_TRUE(owner.timer.armed());
  clock.advance(Millis(99));
  EXPECT_TRUE(owner.fired.empty());
  clock.advance(Millis(1));
  EXPECT_EQ(owner.fired, std::vector<int>{100});
  // Fired, not released: the timer is kept for the next arm.
  EXPECT_FALSE(owner.timer.armed());
  EXPECT_TRUE(owner.timer.allocated());
  owner.timer.arm(owner, clock, Millis(50));
  clock.advance(Millis(50));
  EXPECT_EQ(owner.fired, (std::vector<int>{100, 150}));
}

TEST_F(OnDemandTimerTest, RearmReplacesTheDeadline) {
  owner.timer.arm(owner, clock, Millis(100));
  clock.advance(Millis(60));
  owner.timer.arm(owner, clock, Millis(100));
  EXPECT_EQ(clock.pending(), 1u);
  clock.advance(Millis(99));
  EXPECT_TRUE(owner.fired.empty());
  clock.advance(Millis(1));
  EXPECT_EQ(owner.fired, std::vector<int>{160});
}

TEST_F(OnDemandTimerTest, ReleaseCancelsAndFrees) {
  owner.timer.arm(owner, clock, Millis(10));
  owner.timer.release();
  EXPECT_FALSE(owner.timer.allocated());
  EXPECT_FALSE(owner.timer.armed());
  EXPECT_EQ(clock.pending(), 0u);
  clock.advance(Millis(100));
  EXPECT_TRUE(owner.fired.empty());
}

// The owner's member may release the timer (and arm a new one) while it fires.
TEST_F(OnDemandTimerTest, TheFiredMemberMayReleaseAndRearm) {
  owner.release_when_fired = true;
  owner.timer.arm(owner, clock, Millis(10));
  clock.advance(Millis(10));
  EXPECT_EQ(owner.fired, std::vector<int>{10});
  EXPECT_FALSE(owner.timer.allocated());
  EXPECT_EQ(clock.pending(), 0u);

  owner.rearm_when_fired = true;
  owner.timer.arm(owner, clock, Millis(5));
  clock.advance(Millis(5));  // fires at 15, released, then a new one armed for 25
  EXPECT_TRUE(owner.timer.allocated());
  EXPECT_TRUE(owner.timer.armed());
  owner.rearm_when_fired = false;
  clock.advance(Millis(10));
  EXPECT_EQ(owner.fired, (std::vector<int>{10, 15, 25}));
  EXPECT_FALSE(owner.timer.allocated());
}

TEST_F(OnDemandTimerTest, DestroyingTheOwnerCancelsAnArmedTimer) {
  {
    Owner other;
    other.queue = &clock;
    other.timer.arm(other, clock, Millis(10));
    EXPECT_EQ(clock.pending(), 1u);
  }
  EXPECT_EQ(clock.pending(), 0u);
  clock.advance(Millis(100));
}

}  // namespace
}  // namespace daheim::loop
