// auth.connectsPerSecondPerUser's token buckets (auth_middleware::ConnectRate): the limit itself,
// and that a table of users seen once does not keep them for ever (the soak's live heap grew
// with every distinct user id: README "Soak").
#include "auth_middleware/connect_rate.hpp"

#include <gtest/gtest.h>

#include <string>

namespace {

using daheim::auth_middleware::ConnectRate;
using daheim::loop::TimePoint;
using std::chrono::milliseconds;
using std::chrono::seconds;

const TimePoint t0{seconds(1000)};

void take_distinct(ConnectRate& rate, const std::string& prefix, int n, TimePoint now) {
  for (int i = 0; i < n; ++i) ASSERT_TRUE(rate.take(prefix + std::to_string(i), now));
}

TEST(ConnectRate, BurstThenRate) {
  ConnectRate rate(10, 3);
  EXPECT_TRUE(rate.take("u", t0));
  EXPECT_TRUE(rate.take("u", t0));
  EXPECT_TRUE(rate.take("u", t0));
  EXPECT_FALSE(rate.take("u", t0));
  EXPECT_TRUE(rate.take("v", t0));  // per user
  // 0.1 s gives one token back; the refused attempt drew one too (the bucket is at -1).
  EXPECT_FALSE(rate.take("u", t0 + milliseconds(100)));
  EXPECT_TRUE(rate.take("u", t0 + milliseconds(400)));
}

TEST(ConnectRate, NoLimitTracksNobody) {
  ConnectRate rate(0, 3);
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(rate.take("u", t0));
  EXPECT_EQ(rate.tracked(), 0u);
}

// Users whose bucket is full again are dropped once the table has doubled since the last sweep.
TEST(ConnectRate, FullBucketsAreSweptWhenTheTableDoubles) {
  ConnectRate rate(10, 100);  // a bucket is full again 10 s after its last CONNECT
  take_distinct(rate, "old", 5000, t0);
  EXPECT_EQ(rate.tracked(), 5000u);  // sweeps at 1024, 2048 and 4096 found none full
  const TimePoint later = t0 + seconds(11);
  // The next sweep is due when the 8193rd user comes: the 5000 old ones go, the 3192 new ones
  // before it stay.
  take_distinct(rate, "new", 3193, later);
  EXPECT_EQ(rate.tracked(), 3193u);
}

// A sweep keeps the buckets that still hold a limit.
TEST(ConnectRate, SweepKeepsUsersStillLimited) {
  ConnectRate rate(1, 2);
  EXPECT_TRUE(rate.take("hot", t0));
  EXPECT_TRUE(rate.take("hot", t0));
  EXPECT_FALSE(rate.take("hot", t0));
  const TimePoint later = t0 + milliseconds(1500);            // "hot" is at -1 + 1.5 tokens
  take_distinct(rate, "x", ConnectRate::kFirstSweep, later);  // sweeps once
  EXPECT_FALSE(rate.take("hot", later));
  EXPECT_EQ(rate.tracked(), ConnectRate::kFirstSweep + 1);
}

// The Authenticator's timer sweeps every full_after(): a bucket full again is forgotten, the
// others stay; an empty table gives back its bucket array.
TEST(ConnectRate, SweepForgetsFullBucketsOnly) {
  ConnectRate rate(2, 5);
  EXPECT_EQ(rate.full_after(), milliseconds(2500));
  EXPECT_EQ(ConnectRate(3, 1).full_after(), milliseconds(334));  // rounded up
  take_distinct(rate, "u", 100, t0);  // each at 4 tokens, full again at t0 + 0.5 s
  rate.sweep(t0 + milliseconds(400));
  EXPECT_EQ(rate.tracked(), 100u);
  EXPECT_TRUE(rate.take("late", t0 + seconds(2)));  // full again at t0 + 2.5 s
  rate.sweep(t0 + milliseconds(2499));
  EXPECT_EQ(rate.tracked(), 1u);
  rate.sweep(t0 + milliseconds(2500));
  EXPECT_EQ(rate.tracked(), 0u);
}

}  // namespace
