// BroadcastConfirmation: what Adapter::when_logged answers for the last
// broadcast of an adapter (POST /api/v1/push answers 202 only on Yes).
#include "cluster/broadcast_confirmation.hpp"

#include <gtest/gtest.h>

#include <optional>

#include "poll_loop.hpp"

namespace daheim::cluster {
namespace {

using Logged = BroadcastConfirmation::Logged;
using loop::Millis;
using testing::PollLoop;

struct Waiter {
  std::optional<Logged> got;
  int calls = 0;
  std::function<void(Logged)> fn() {
    return [this](Logged l) {
      got = l;
      ++calls;
    };
  }
};

TEST(BroadcastConfirmation, NoBroadcastYetIsRefused) {
  PollLoop loop;
  BroadcastConfirmation c;
  Waiter w;
  c.when(loop, Millis(1000), w.fn());
  EXPECT_EQ(w.got, Logged::Refused);
}

TEST(BroadcastConfirmation, SettledAnswersAtOnce) {
  PollLoop loop;
  BroadcastConfirmation c;
  c.settled(Logged::Yes);
  Waiter w;
  c.when(loop, Millis(1000), w.fn());
  EXPECT_EQ(w.got, Logged::Yes);
}

TEST(BroadcastConfirmation, AnswerBeforeOrAfterTheWait) {
  PollLoop loop;
  BroadcastConfirmation c;
  c.expect();
  BroadcastConfirmation::Answer first = c.sent();
  first(true);  // Redis answered before when()
  Waiter early;
  c.when(loop, Millis(1000), early.fn());
  EXPECT_EQ(early.got, Logged::Yes);

  c.expect();
  BroadcastConfirmation::Answer second = c.sent();
  Waiter late;
  c.when(loop, Millis(1000), late.fn());
  EXPECT_FALSE(late.got);
  second(false);
  EXPECT_EQ(late.got, Logged::Refused);
  loop.run_for(Millis(50));
  EXPECT_EQ(late.calls, 1);
}

TEST(BroadcastConfirmation, NoAnswerWithinTheTimeoutIsTimedOutOnce) {
  PollLoop loop;
  BroadcastConfirmation c;
  c.expect();
  BroadcastConfirmation::Answer answer = c.sent();
  Waiter w;
  c.when(loop, Millis(30), w.fn());
  ASSERT_TRUE(loop.run_until([&] { return w.got.has_value(); }, Millis(2000)));
  EXPECT_EQ(w.got, Logged::TimedOut);
  answer(true);  // late: the waiter is not called again
  EXPECT_EQ(w.calls, 1);
}

TEST(BroadcastConfirmation, UnawaitedRefusalRunsTheFallbackOnly) {
  PollLoop loop;
  BroadcastConfirmation c;
  int fallbacks = 0;
  c.sent([&] { ++fallbacks; })(false);  // nobody waited: delivered here instead
  EXPECT_EQ(fallbacks, 1);
  c.expect();
  BroadcastConfirmation::Answer awaited = c.sent([&] { ++fallbacks; });
  Waiter w;
  c.when(loop, Millis(1000), w.fn());
  awaited(false);  // the waiter reports it instead
  EXPECT_EQ(fallbacks, 1);
  EXPECT_EQ(w.got, Logged::Refused);
}

// A broadcast nobody said it waits for (every one but POST /api/v1/push's)
// keeps no record: nothing to call with Redis's answer.
TEST(BroadcastConfirmation, AnUnexpectedBroadcastKeepsNoRecord) {
  PollLoop loop;
  BroadcastConfirmation c;
  EXPECT_FALSE(c.sent());
  Waiter w;
  c.when(loop, Millis(1000), w.fn());  // a caller that did not say so: no answer to give
  EXPECT_EQ(w.got, Logged::Refused);
  // The expectation is for the next broadcast only.
  c.expect();
  BroadcastConfirmation::Answer expected = c.sent();
  ASSERT_TRUE(expected);
  EXPECT_FALSE(c.sent());
  c.expect();
  c.settled(Logged::Yes);
  EXPECT_FALSE(c.sent());
}

// The streams adapter's broadcasts: without a waiter the answer is still
// needed for the fallback (delivered here when Redis refused the XADD); a
// late answer to one of them does not answer the expected broadcast after.
TEST(BroadcastConfirmation, UnexpectedStreamsBroadcastsStillFallBack) {
  PollLoop loop;
  BroadcastConfirmation c;
  int fallbacks = 0;
  BroadcastConfirmation::Answer taken = c.sent([&] { ++fallbacks; });
  BroadcastConfirmation::Answer refused = c.sent([&] { ++fallbacks; });
  ASSERT_TRUE(taken);
  ASSERT_TRUE(refused);
  taken(true);
  EXPECT_EQ(fallbacks, 0);
  c.expect();
  BroadcastConfirmation::Answer awaited = c.sent([&] { ++fallbacks; });
  Waiter w;
  c.when(loop, Millis(1000), w.fn());
  refused(false);  // the earlier, unexpected one: delivered here, the waiter waits on
  EXPECT_EQ(fallbacks, 1);
  EXPECT_FALSE(w.got);
  awaited(true);
  EXPECT_EQ(w.got, Logged::Yes);
  EXPECT_EQ(fallbacks, 1);
}

}  // namespace
}  // namespace daheim::cluster
