// StreamWindow: the events a recovering session missed, from the reader's
// in-memory window of the stream, byte for byte as the XRANGE path builds
// them (each with its entry id as offset), in stream order, only those
// addressed to the session, and nullopt whenever the window cannot answer.
#include "cluster/stream_window.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace daheim::cluster {
namespace {

std::string list(const std::vector<std::string>& v) {
  std::string out = "[";
  for (const std::string& s : v) out += (out.size() > 1 ? ",\"" : "\"") + s + "\"";
  return out + "]";
}

// A broadcast entry as @socket.io/redis-streams-adapter writes it.
StreamEntry event(std::string id, int n, std::vector<std::string> rooms = {},
                  std::vector<std::string> except = {}, std::string flags = "{}",
                  std::string nsp = "/") {
  return StreamEntry{std::move(id), "uid1", std::move(nsp), 3,
                     R"({"packet":{"type":2,"data":["e",)" + std::to_string(n) +
                         R"(]},"opts":{"rooms":)" + list(rooms) + R"(,"except":)" + list(except) +
                         R"(,"flags":)" + flags + "}}"};
}

StreamId id(uint64_t ms, uint64_t seq = 0) {
  return StreamId{ms, seq};
}

// The frames' bodies, in order.
std::vector<std::string> bodies(const std::optional<std::vector<socketio::EncodedPacket>>& m) {
  std::vector<std::string> out;
  if (m)
    for (const auto& p : *m) out.emplace_back(p.text->body());
  return out;
}

const std::vector<std::string> kRooms = {"sid1", "a"};

TEST(StreamWindow, ASessionGetsOnlyWhatIsAddressedToItInStreamOrder) {
  StreamWindow w({});
  w.reset(false);
  w.add(event("10-0", 0));                         // the client's offset
  w.add(event("11-0", 1, {"a"}));                  // its room
  w.add(event("12-0", 2));                         // everyone
  w.add(event("13-0", 3, {"b"}));                  // a room it is not in
  w.add(event("14-0", 4, {"sid1"}));               // to it alone
  w.add(event("15-0", 5, {"sid2"}));               // to another socket
  w.add(event("16-0", 6, {"a", "sid1", "a"}));     // two of its rooms: once
  w.add(event("17-0", 7, {}, {}, "{}", "/chat"));  // another namespace
  w.add(event("18-0", 8, {"b", "a"}));
  EXPECT_EQ(
      bodies(w.missed("/", id(10), kRooms)),
      (std::vector<std::string>{R"(42["e",1,"11-0"])", R"(42["e",2,"12-0"])", R"(42["e",4,"14-0"])",
                                R"(42["e",6,"16-0"])", R"(42["e",8,"18-0"])"}));
  EXPECT_EQ(bodies(w.missed("/chat", id(10), kRooms)),
            (std::vector<std::string>{R"(42/chat,["e",7,"17-0"])"}));
  // From a later offset: only what follows it.
  EXPECT_EQ(bodies(w.missed("/", id(14), kRooms)),
            (std::vector<std::string>{R"(42["e",6,"16-0"])", R"(42["e",8,"18-0"])"}));
  // The newest entry as the offset: nothing missed, and an answer.
  auto none = w.missed("/", id(18), kRooms);
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
  auto all = w.missed("/", id(10), kRooms);
  ASSERT_TRUE(all);
  for (const auto& p : *all) EXPECT_TRUE(p.logged);
}

TEST(StreamWindow, AnEntryExceptingOneOfTheSessionsRoomsIsLeftOut) {
  StreamWindow w({});
  w.reset(false);
  w.add(event("1-0", 0));
  w.add(event("2-0", 1, {}, {"a"}));        // everyone but room a
  w.add(event("3-0", 2, {"sid1"}, {"a"}));  // to it, but except a
  w.add(event("4-0", 3, {}, {"c"}));        // everyone but room c
  w.add(event("5-0", 4, {"c"}, {"sid1"}));  // a room it is not in
  EXPECT_EQ(bodies(w.missed("/", id(1), kRooms)), (std::vector<std::string>{R"(42["e",3,"4-0"])"}));
  EXPECT_EQ(bodies(w.missed("/", id(1), {"sid2", "c"})),
            (std::vector<std::string>{R"(42["e",1,"2-0"])", R"(42["e",4,"5-0"])"}));
}

TEST(StreamWindow, VolatileAckAndNonBroadcastEntriesAreNoEventsButValidOffsets) {
  StreamWindow w({});
  w.reset(false);
  w.add(event("1-0", 0));
  w.add(event("2-0", 1, {}, {}, R"({"volatile":true})"));
  w.add(StreamEntry{"3-0", "uid1", "/", 4, R"({"opts":{"rooms":[],"except":[]},"rooms":["x"]})"});
  w.add(StreamEntry{
      "4-0", "uid1", "/", 3,
      R"({"packet":{"type":2,"data":["acked"],"id":7},"opts":{"rooms":[],"except":[]}})"});
  w.add(event("5-0", 5));
  EXPECT_EQ(bodies(w.missed("/", id(1), kRooms)), (std::vector<std::string>{R"(42["e",5,"5-0"])"}));
  EXPECT_EQ(bodies(w.missed("/", id(3), kRooms)), (std::vector<std::string>{R"(42["e",5,"5-0"])"}));
  EXPECT_EQ(w.size(), 5u);
}

TEST(StreamWindow, AnOffsetThatIsNotAnEntryOfTheWindowIsNotAnswered) {
  StreamWindow w({});
  w.reset(false);
  w.add(event("10-0", 0));
  w.add(event("20-0", 1));
  EXPECT_FALSE(w.missed("/", id(9), kRooms));       // older than the window
  EXPECT_FALSE(w.missed("/", id(15), kRooms));      // between entries: not an id of the stream
  EXPECT_FALSE(w.missed("/", id(21), kRooms));      // after the cursor
  EXPECT_FALSE(w.missed("/", StreamId{}, kRooms));  // the window does not begin the stream
  // Entries at or below the newest are not added again.
  w.add(event("20-0", 9));
  w.add(event("19-0", 9));
  EXPECT_EQ(bodies(w.missed("/", id(10), kRooms)),
            (std::vector<std::string>{R"(42["e",1,"20-0"])"}));
}

TEST(StreamWindow, TheEntryBoundEvictsTheOldestAndMovesTheBoundary) {
  StreamWindow w({.max_entries = 3, .max_bytes = 1 << 20});
  w.reset(false);
  for (int i = 1; i <= 5; ++i) w.add(event(std::to_string(i) + "-0", i, {i % 2 ? "a" : "sid1"}));
  // Entries 3, 4, 5 are left: 3 is the oldest offset answered.
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.evicted(), 2u);
  EXPECT_FALSE(w.missed("/", id(2), kRooms));
  EXPECT_EQ(bodies(w.missed("/", id(3), kRooms)),
            (std::vector<std::string>{R"(42["e",4,"4-0"])", R"(42["e",5,"5-0"])"}));
  EXPECT_EQ(bodies(w.missed("/", id(4), {"sid1", "a"})),
            (std::vector<std::string>{R"(42["e",5,"5-0"])"}));
}

TEST(StreamWindow, TheByteBoundEvictsTheOldestAndReleasesRoomsAndPackets) {
  StreamWindow probe({});
  probe.reset(false);
  probe.add(event("11-0", 11, {"room-1"}));
  std::size_t one = probe.bytes();
  ASSERT_GT(one, 0u);
  StreamWindow w({.max_entries = 100, .max_bytes = 3 * one + one / 2});
  w.reset(false);
  // Ids of one length: every entry (packet, room, index) costs the same.
  for (int i = 11; i <= 20; ++i)
    w.add(event(std::to_string(i) + "-0", i, {"room-" + std::to_string(i % 10)}));
  EXPECT_EQ(w.size(), 3u);
  EXPECT_EQ(w.bytes(), 3 * one);
  EXPECT_FALSE(w.missed("/", id(17), {"sid1", "room-9", "room-0"}));
  EXPECT_EQ(bodies(w.missed("/", id(18), {"sid1", "room-9", "room-0"})),
            (std::vector<std::string>{R"(42["e",19,"19-0"])", R"(42["e",20,"20-0"])"}));
  w.reset(false);
  EXPECT_EQ(w.bytes(), 0u);
  EXPECT_EQ(w.size(), 0u);
}

TEST(StreamWindow, AWholeStreamAnswersTheEmptyStreamsOffsetUntilItsFirstEviction) {
  StreamWindow w({.max_entries = 2, .max_bytes = 1 << 20});
  w.reset(true);
  EXPECT_EQ(bodies(w.missed("/", StreamId{}, kRooms)), std::vector<std::string>{});
  EXPECT_TRUE(w.missed("/", StreamId{}, kRooms));
  w.add(event("1-0", 1));
  w.add(event("2-0", 2, {"a"}));
  EXPECT_EQ(bodies(w.missed("/", StreamId{}, kRooms)),
            (std::vector<std::string>{R"(42["e",1,"1-0"])", R"(42["e",2,"2-0"])"}));
  w.add(event("3-0", 3));
  EXPECT_FALSE(w.missed("/", StreamId{}, kRooms));
}

TEST(StreamWindow, ZeroEntriesKeepsNothing) {
  StreamWindow w({.max_entries = 0, .max_bytes = 1 << 20});
  w.reset(false);
  w.add(event("1-0", 1));
  w.add(event("2-0", 2));
  EXPECT_EQ(w.size(), 0u);
  EXPECT_FALSE(w.missed("/", id(1), kRooms));
}

}  // namespace
}  // namespace daheim::cluster
