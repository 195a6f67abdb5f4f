// LwsTimerQueue on a real libwebsockets context (no listener), serviced by
// lws's own loop: order, cancel, re-arm and many timers.
#include "loop/lws_timer_queue.hpp"

#include <gtest/gtest.h>
#include <libwebsockets.h>

#include <chrono>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace daheim::loop {
namespace {

using Clock = std::chrono::steady_clock;

class LwsTimerQueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lws_set_log_level(LLL_ERR, nullptr);
    lws_context_creation_info info;
    std::memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    context_ = lws_create_context(&info);
    ASSERT_NE(context_, nullptr);
    queue_.attach(context_);
  }
  void TearDown() override {
    timers_.clear();
    queue_.detach();
    lws_context_destroy(context_);
  }

  Timer& make(std::function<void()> fire) {
    timers_.push_back(std::make_unique<Timer>(queue_, std::move(fire)));
    return *timers_.back();
  }

  // Services lws without blocking (lws runs ripe timers at the start of a
  // pass, then would sleep until its next own timer) until `done` or two
  // seconds have passed.
  bool run_until(const std::function<bool()>& done) {
    auto give_up = Clock::now() + std::chrono::seconds(2);
    while (!done() && Clock::now() < give_up) lws_service(context_, -1);
    return done();
  }

  lws_context* context_ = nullptr;
  LwsTimerQueue queue_;
  std::vector<std::unique_ptr<Timer>> timers_;
};

TEST_F(LwsTimerQueueTest, FiresInDeadlineOrderNotArmingOrder) {
  std::vector<int> fired;
  for (int ms : {30, 10, 20, 0}) make([&fired, ms] { fired.push_back(ms); }).arm(Millis(ms));
  ASSERT_TRUE(run_until([&] { return fired.size() == 4; }));
  EXPECT_EQ(fired, (std::vector<int>{0, 10, 20, 30}));
  EXPECT_EQ(queue_.armed(), 0u);
}

TEST_F(LwsTimerQueueTest, NeverFiresBeforeItsDelay) {
  auto start = Clock::now();
  Clock::time_point fired_at{};
  make([&] { fired_at = Clock::now(); }).arm(Millis(40));
  ASSERT_TRUE(run_until([&] { return fired_at != Clock::time_point{}; }));
  EXPECT_GE(fired_at - start, Millis(40));
}

TEST_F(LwsTimerQueueTest, CancelledTimersDoNotFire) {
  std::vector<int> fired;
  for (int i = 0; i < 6; ++i) make([&fired, i] { fired.push_back(i); }).arm(Millis(5 + i));
  timers_[0]->disarm();  // the earliest: the wakeup moves to the next one
  timers_[3]->disarm();
  timers_[5]->disarm();  // the last
  ASSERT_TRUE(run_until([&] { return fired.size() == 3; }));
  lws_service(context_, -1);
  EXPECT_EQ(fired, (std::vector<int>{1, 2, 4}));
  EXPECT_EQ(queue_.armed(), 0u);
}

TEST_F(LwsTimerQueueTest, RearmingReplacesTheDeadline) {
  int a = 0, b = 0;
  Timer& ta = make([&] { ++a; });
  make([&] { ++b; }).arm(Millis(30));
  ta.arm(Millis(5));
  ta.arm(Millis(60));  // now after b
  ASSERT_TRUE(run_until([&] { return b == 1; }));
  EXPECT_EQ(a, 0);
  ASSERT_TRUE(run_until([&] { return a == 1; }));
  EXPECT_EQ(queue_.armed(), 0u);
}

TEST_F(LwsTimerQueueTest, TimerRearmedFromItsCallbackWaitsForTheNextWakeup) {
  int fired = 0;
  Timer* self = nullptr;
  self = &make([&] {
    if (++fired < 5) self->arm(Millis(0));
  });
  self->arm(Millis(0));
  ASSERT_TRUE(run_until([&] { return fired == 5; }));
  EXPECT_FALSE(self->armed());
}

TEST_F(LwsTimerQueueTest, CallbackMayCancelAndDestroyOtherDueTimers) {
  int later = 0;
  Timer& victim = make([&] { ++later; });
  victim.arm(Millis(1));
  make([&] { timers_[0].reset(); }).arm(Millis(0));  // destroys the armed victim
  ASSERT_TRUE(run_until([&] { return queue_.armed() == 0; }));
  lws_service(context_, -1);
  EXPECT_EQ(later, 0);
}

TEST_F(LwsTimerQueueTest, TenThousandTimersFireOnceEachInOrder) {
  std::mt19937 rng(7);
  std::vector<std::pair<Clock::time_point, int>> fired;
  std::vector<Clock::time_point> due(10000);
  std::vector<bool> cancelled(10000);
  auto start = Clock::now();
  for (int i = 0; i < 10000; ++i) {
    int ms = static_cast<int>(rng() % 100);
    due[i] = start + Millis(ms);
    make([&fired, i] { fired.emplace_back(Clock::now(), i); }).arm(Millis(ms));
  }
  for (int i = 0; i < 10000; i += 3) {
    timers_[i]->disarm();
    cancelled[i] = true;
  }
  ASSERT_TRUE(run_until([&] { return queue_.armed() == 0; }));
  std::vector<int> count(10000);
  for (auto& [when, i] : fired) {
    ++count[i];
    EXPECT_GE(when, due[i]) << "timer " << i << " fired early";
  }
  for (int i = 0; i < 10000; ++i) EXPECT_EQ(count[i], cancelled[i] ? 0 : 1) << "timer " << i;
}

// A timer the loop has not got to yet reads as overdue; in its callback, it
// reads how late it fired (the heartbeat counts its pong window from there).
TEST_F(LwsTimerQueueTest, RemainingIsNegativeOnceOverdueAndInTheCallback) {
  Micros in_callback{1};
  Timer& t = make([&] { in_callback = timers_[0]->remaining(); });
  Timer& idle = make([] {});
  t.arm(Millis(20));
  EXPECT_GT(t.remaining(), Micros(0));
  EXPECT_LE(t.remaining(), Micros(20000));
  EXPECT_EQ(idle.remaining(), Micros(0));                      // not armed
  std::this_thread::sleep_for(std::chrono::milliseconds(30));  // the loop is busy elsewhere
  EXPECT_LE(t.remaining(), Micros(-10000));
  ASSERT_TRUE(run_until([&] { return !t.armed(); }));
  EXPECT_LE(in_callback, Micros(-10000));
  EXPECT_EQ(t.remaining(), Micros(0));  // fired, not armed again
}

TEST_F(LwsTimerQueueTest, TimersArmedBeforeAttachWaitForIt) {
  LwsTimerQueue detached;
  int fired = 0;
  Timer t(detached, [&] { ++fired; });
  t.arm(Millis(1));
  lws_service(context_, -1);
  EXPECT_EQ(fired, 0);
  detached.attach(context_);
  ASSERT_TRUE(run_until([&] { return fired == 1; }));
  detached.detach();
}

}  // namespace
}  // namespace daheim::loop
