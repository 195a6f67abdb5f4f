// Per-address limits and the client address behind trusted proxies.
#include "transport/address_limits.hpp"

#include <gtest/gtest.h>

#include "fake_timer_queue.hpp"
#include "transport/client_address.hpp"

namespace daheim::transport {
namespace {

using Verdict = AddressLimits::Verdict;
using loop::Millis;
using loop::TimePoint;

TEST(AddressKey, IPv4AsItIsIPv6ByItsSlash64) {
  EXPECT_EQ(address_key("192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(address_key("::ffff:192.0.2.7"), "192.0.2.7");
  EXPECT_EQ(address_key("2001:db8:1:2:aaaa:bbbb:cccc:dddd"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key("2001:db8:1:2::1"), "2001:db8:1:2::/64");
  EXPECT_EQ(address_key("not-an-address"), "not-an-address");
}

TEST(AddressRange, MatchesPrefixes) {
  auto lan = AddressRange::parse("10.0.0.0/8");
  ASSERT_TRUE(lan);
  EXPECT_TRUE(lan->contains("10.1.2.3"));
  EXPECT_TRUE(lan->contains("::ffff:10.1.2.3"));
  EXPECT_FALSE(lan->contains("11.0.0.1"));
  auto one = AddressRange::parse("127.0.0.1");
  EXPECT_TRUE(one->contains("127.0.0.1"));
  EXPECT_FALSE(one->contains("127.0.0.2"));
  auto v6 = AddressRange::parse("fd00::/8");
  EXPECT_TRUE(v6->contains("fd12::1"));
  EXPECT_FALSE(v6->contains("fe80::1"));
  auto odd = AddressRange::parse("192.168.0.0/23");
  EXPECT_TRUE(odd->contains("192.168.1.255"));
  EXPECT_FALSE(odd->contains("192.168.2.0"));
  for (const char* bad : {"", "10.0.0.0/33", "::/129", "10.0.0/8", "x", "10.0.0.0/", "1.2.3.4/a"})
    EXPECT_FALSE(AddressRange::parse(bad)) << bad;
}

TEST(AddressSet, TakeTheRightMostUntrustedHop) {
  AddressSet none;
  EXPECT_EQ(none.client_address("203.0.113.9", "198.51.100.1"), "203.0.113.9");
  AddressSet p({*AddressRange::parse("10.0.0.0/8"), *AddressRange::parse("127.0.0.1")});
  EXPECT_EQ(p.client_address("127.0.0.1", ""), "127.0.0.1");
  EXPECT_EQ(p.client_address("127.0.0.1", "198.51.100.1"), "198.51.100.1");
  // A client may write its own X-Forwarded-For: only the hops our proxies added count.
  EXPECT_EQ(p.client_address("127.0.0.1", "1.1.1.1, 198.51.100.1, 10.0.0.2"), "198.51.100.1");
  EXPECT_EQ(p.client_address("127.0.0.1", "10.0.0.3,10.0.0.2"), "10.0.0.3");
  // An untrusted peer's header is ignored.
  EXPECT_EQ(p.client_address("203.0.113.9", "198.51.100.1"), "203.0.113.9");
}

TEST(AddressLimits, ConnectionsPerAddress) {
  testing::FakeTimerQueue timers;
  AddressLimits limits(timers, {2, 0, 0, 0});
  TimePoint t{};
  EXPECT_EQ(limits.add_connection("a", t), Verdict::Admit);
  EXPECT_EQ(limits.add_connection("a", t), Verdict::Admit);
  EXPECT_EQ(limits.add_connection("a", t), Verdict::TooManyConnections);
  EXPECT_EQ(limits.add_connection("b", t), Verdict::Admit);  // the neighbour
  limits.remove_connection("a", t);
  EXPECT_EQ(limits.add_connection("a", t), Verdict::Admit);
  EXPECT_EQ(limits.stats().connections_refused, 1u);
  limits.remove_connection("a", t);
  limits.remove_connection("a", t);
  limits.remove_connection("b", t);
  EXPECT_EQ(limits.tracked(), 0u);
}

TEST(AddressLimits, SessionsAndHandshakesPerSecond) {
  testing::FakeTimerQueue timers;
  AddressLimits limits(timers, {0, 3, 2, 2});  // 3 sessions, 2 handshakes/s, burst 2
  TimePoint t{};
  EXPECT_EQ(limits.add_session("a", t), Verdict::Admit);
  EXPECT_EQ(limits.add_session("a", t), Verdict::Admit);
  EXPECT_EQ(limits.add_session("a", t), Verdict::TooManyHandshakes);
  EXPECT_EQ(limits.add_session("b", t), Verdict::Admit);
  t += Millis(500);  // one token back
  EXPECT_EQ(limits.add_session("a", t), Verdict::Admit);
  t += Millis(5000);
  EXPECT_EQ(limits.add_session("a", t), Verdict::TooManySessions);
  limits.remove_session("a", t);
  EXPECT_EQ(limits.add_session("a", t), Verdict::Admit);
  EXPECT_EQ(limits.stats().handshakes_refused, 1u);
  EXPECT_EQ(limits.stats().sessions_refused, 1u);
}

// admits_session answers as add_session would, and counts no refusal: the
// path that asks hands a refused handshake on to one that counts it.
TEST(AddressLimits, AdmitsSessionCountsNothing) {
  testing::FakeTimerQueue timers;
  AddressLimits limits(timers, {0, 1, 1, 1});  // 1 session, 1 handshake/s, burst 1
  TimePoint t{};
  EXPECT_TRUE(limits.admits_session("a", t));  // no entry yet
  EXPECT_EQ(limits.add_session("a", t), Verdict::Admit);
  EXPECT_FALSE(limits.admits_session("a", t));  // too many sessions
  limits.remove_session("a", t);
  EXPECT_FALSE(limits.admits_session("a", t));  // no handshake token yet
  EXPECT_EQ(limits.stats().sessions_refused, 0u);
  EXPECT_EQ(limits.stats().handshakes_refused, 0u);
  t += Millis(1000);
  EXPECT_TRUE(limits.admits_session("a", t));
  EXPECT_EQ(limits.add_session("a", t), Verdict::Admit);  // admits_session took nothing
}

TEST(AddressLimits, IdleEntriesGoOnceTheBucketIsFull) {
  testing::FakeTimerQueue timers;
  AddressLimits limits(timers, {0, 0, 10, 10});
  TimePoint t{};
  for (int i = 0; i < 5000; ++i) {
    std::string key = "k" + std::to_string(i);
    EXPECT_EQ(limits.add_session(key, t), Verdict::Admit);
    limits.remove_session(key, t);  // the bucket is one short for 100 ms: kept
    t += Millis(1);
  }
  EXPECT_LE(limits.tracked(), 2048u);  // swept as the table grew
  EXPECT_GE(limits.tracked(), 100u);   // the last 100 ms are still refilling
}

// An address that stops coming is forgotten by the timer, without the table
// having to grow: every full_after() (burst / rate) while it is not empty.
TEST(AddressLimits, IdleEntriesAreSweptOnATimer) {
  testing::FakeTimerQueue timers;
  AddressLimits limits(timers, {0, 0, 10, 10});  // refilled from empty in 1 s
  EXPECT_EQ(limits.full_after(), Millis(1000));
  EXPECT_EQ(timers.pending(), 0u);  // nothing tracked, nothing armed
  EXPECT_EQ(limits.add_session("gone", timers.now()), Verdict::Admit);
  limits.remove_session("gone", timers.now());  // one token short: kept
  EXPECT_EQ(limits.add_connection("open", timers.now()), Verdict::Admit);
  EXPECT_EQ(limits.tracked(), 2u);
  timers.advance(Millis(999));  // "gone" is full again since 100 ms, not yet swept
  EXPECT_EQ(limits.tracked(), 2u);
  timers.advance(Millis(1));
  EXPECT_EQ(limits.tracked(), 1u);  // swept; "open" still has its connection
  EXPECT_EQ(timers.pending(), 1u);  // so the sweeper runs again
  limits.remove_connection("open", timers.now());
  EXPECT_EQ(limits.tracked(), 0u);
  timers.advance(Millis(1000));
  EXPECT_EQ(timers.pending(), 0u);  // an empty table stops it
}

}  // namespace
}  // namespace daheim::transport
