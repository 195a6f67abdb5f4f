// The server-wide handshake budget: a token bucket with a bounded,
// first-come-first-served waiting queue.
#include "transport/handshake_budget.hpp"

#include <gtest/gtest.h>

namespace daheim::transport {
namespace {

using Verdict = HandshakeBudget::Verdict;
using loop::Millis;
using loop::TimePoint;

const TimePoint t0 = TimePoint{} + std::chrono::hours(1);

HandshakeBudgetOptions options(uint32_t rate, uint32_t burst, std::size_t waiting, int wait_ms) {
  HandshakeBudgetOptions o;
  o.per_second = rate;
  o.burst = burst;
  o.max_waiting = waiting;
  o.max_wait = Millis(wait_ms);
  return o;
}

TEST(HandshakeBudget, BurstAtOnceThenWaitsThenRefusesWhenTheQueueIsFull) {
  HandshakeBudget b(options(10, 3, 2, 1000), t0);
  EXPECT_EQ(b.request(1, t0), Verdict::Admit);
  EXPECT_EQ(b.request(2, t0), Verdict::Admit);
  EXPECT_EQ(b.request(3, t0), Verdict::Admit);
  EXPECT_EQ(b.request(4, t0), Verdict::Wait);
  EXPECT_EQ(b.request(5, t0), Verdict::Wait);
  EXPECT_EQ(b.check(t0), Verdict::Refuse);
  EXPECT_EQ(b.request(6, t0), Verdict::Refuse);
  EXPECT_EQ(b.waiting(), 2u);
  EXPECT_EQ(b.stats().admitted, 3u);
  EXPECT_EQ(b.stats().waited, 2u);
  EXPECT_EQ(b.stats().refused_full, 1u);
}

TEST(HandshakeBudget, ReleasesWaitingInOrderAtTheRate) {
  HandshakeBudget b(options(10, 1, 10, 5000), t0);
  EXPECT_EQ(b.request(1, t0), Verdict::Admit);
  for (uint64_t id = 2; id <= 5; ++id) EXPECT_EQ(b.request(id, t0), Verdict::Wait);
  EXPECT_EQ(*b.next_release(t0), Millis(100));  // one token per 100 ms
  EXPECT_TRUE(b.release(t0 + Millis(99)).admitted.empty());
  auto r = b.release(t0 + Millis(100));
  EXPECT_EQ(r.admitted, std::vector<uint64_t>{2});
  // Late by 250 ms: the tokens of that time (burst 1 caps them at one).
  r = b.release(t0 + Millis(350));
  EXPECT_EQ(r.admitted, std::vector<uint64_t>{3});
  EXPECT_EQ(*b.next_release(t0 + Millis(350)), Millis(100));
  r = b.release(t0 + Millis(450));
  EXPECT_EQ(r.admitted, std::vector<uint64_t>{4});
  EXPECT_TRUE(r.expired.empty());
  EXPECT_EQ(b.waiting(), 1u);
}

TEST(HandshakeBudget, ANewcomerQueuesBehindTheWaitingEvenWithATokenFree) {
  HandshakeBudget b(options(10, 2, 10, 5000), t0);
  EXPECT_EQ(b.request(1, t0), Verdict::Admit);
  EXPECT_EQ(b.request(2, t0), Verdict::Admit);
  EXPECT_EQ(b.request(3, t0), Verdict::Wait);
  // A token is back at 100 ms, but 3 came first.
  EXPECT_EQ(b.request(4, t0 + Millis(150)), Verdict::Wait);
  auto r = b.release(t0 + Millis(150));
  EXPECT_EQ(r.admitted, std::vector<uint64_t>{3});
  r = b.release(t0 + Millis(200));
  EXPECT_EQ(r.admitted, std::vector<uint64_t>{4});
  EXPECT_EQ(b.request(5, t0 + Millis(300)), Verdict::Admit);
}

TEST(HandshakeBudget, AWaitThatRanOutIsExpiredAndTheNextReleaseIsItsDeadline) {
  HandshakeBudget b(options(1, 1, 10, 300), t0);
  EXPECT_EQ(b.request(1, t0), Verdict::Admit);
  EXPECT_EQ(b.request(2, t0), Verdict::Wait);
  EXPECT_EQ(b.request(3, t0 + Millis(100)), Verdict::Wait);
  EXPECT_EQ(*b.next_release(t0), Millis(300));  // the deadline comes before a token
  auto r = b.release(t0 + Millis(300));
  EXPECT_EQ(r.expired, std::vector<uint64_t>{2});
  EXPECT_TRUE(r.admitted.empty());
  r = b.release(t0 + Millis(400));
  EXPECT_EQ(r.expired, std::vector<uint64_t>{3});
  EXPECT_EQ(b.stats().refused_expired, 2u);
  EXPECT_FALSE(b.next_release(t0 + Millis(400)));
}

TEST(HandshakeBudget, ACancelledWaiterLeavesTheQueue) {
  HandshakeBudget b(options(10, 1, 10, 5000), t0);
  b.request(1, t0);
  EXPECT_EQ(b.request(2, t0), Verdict::Wait);
  EXPECT_EQ(b.request(3, t0), Verdict::Wait);
  b.cancel(2);
  b.cancel(42);
  auto r = b.release(t0 + Millis(100));
  EXPECT_EQ(r.admitted, std::vector<uint64_t>{3});
  EXPECT_EQ(b.waiting(), 0u);
}

TEST(HandshakeBudget, NoWaitMeansRefuseAndNoRateMeansNoLimit) {
  HandshakeBudget refuse(options(10, 1, 10, 0), t0);
  EXPECT_EQ(refuse.request(1, t0), Verdict::Admit);
  EXPECT_EQ(refuse.request(2, t0), Verdict::Refuse);
  HandshakeBudget open(options(0, 1, 0, 0), t0);
  for (uint64_t id = 1; id <= 100; ++id) EXPECT_EQ(open.request(id, t0), Verdict::Admit);
  EXPECT_FALSE(open.next_release(t0));
}

TEST(HandshakeBudget, RetryAfterIsTheTimeTheQueueAheadNeeds) {
  HandshakeBudget b(options(2, 1, 10, 10000), t0);
  EXPECT_EQ(b.retry_after_seconds(), 1u);
  b.request(1, t0);
  for (uint64_t id = 2; id <= 6; ++id) b.request(id, t0);
  EXPECT_EQ(b.retry_after_seconds(), 3u);  // (5 waiting + 1) / 2 per second
}

}  // namespace
}  // namespace daheim::transport
