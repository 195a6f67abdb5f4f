// Rooms and broadcasts through the in-memory adapter.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "harness.hpp"
#include "socketio/in_memory_adapter.hpp"

namespace daheim::testing {
namespace {

using socketio::BroadcastOptions;
using socketio::Socket;
using Frames = std::vector<std::string>;

class BroadcastTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int i = 0; i < 4; ++i) peers.push_back(h.join());
  }
  Socket& socket(int i) { return Harness::socket_of(*peers[i]); }
  socketio::Namespace& nsp() { return h.server.of("/"); }
  socketio::InMemoryAdapter& adapter() {
    return static_cast<socketio::InMemoryAdapter&>(nsp().adapter());
  }
  // Which peers received exactly `frame` (and nothing else).
  std::vector<int> receivers(const std::string& frame) {
    std::vector<int> out;
    for (std::size_t i = 0; i < peers.size(); ++i) {
      Frames f = peers[i]->take();
      if (f.empty()) continue;
      EXPECT_EQ(f, Frames{frame}) << "peer " << i;
      out.push_back(static_cast<int>(i));
    }
    return out;
  }
  static BroadcastOptions to(std::vector<std::string> rooms, std::vector<std::string> except = {}) {
    BroadcastOptions o;
    o.rooms = std::move(rooms);
    o.except = std::move(except);
    return o;
  }

  std::vector<std::string> seen;  // outlives the peers (disconnect handlers write to it)
  Harness h;
  std::vector<std::unique_ptr<Peer>> peers;
};

TEST_F(BroadcastTest, EmitToAll) {
  nsp().emit("news", R"(["hi"])");
  EXPECT_EQ(receivers(R"(42["news","hi"])"), (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(BroadcastTest, JoinLeaveAndRooms) {
  socket(0).join("a");
  socket(0).join("b");
  socket(0).join("a");
  std::vector<std::string> rooms = socket(0).rooms();
  EXPECT_EQ(rooms, (std::vector<std::string>{std::string(socket(0).id()), "a", "b"}));
  socket(0).leave("a");
  EXPECT_EQ(socket(0).rooms(), (std::vector<std::string>{std::string(socket(0).id()), "b"}));
  EXPECT_FALSE(adapter().has_room("a"));
  EXPECT_TRUE(adapter().has_room("b"));
  EXPECT_TRUE(adapter().has_room(socket(1).id()));
  EXPECT_EQ(adapter().room_count(), 1u);
}

// A socket in no room but its own keeps no room list: it is allocated on the
// first join and freed on the last leave (or the disconnect).
TEST_F(BroadcastTest, RoomListExistsOnlyWhileInARoom) {
  EXPECT_EQ(adapter().room_lists_allocated(), 0u);  // own-id rooms only
  socket(0).join("a");
  socket(0).join("b");
  socket(1).join("a");
  EXPECT_EQ(adapter().room_lists_allocated(), 2u);
  socket(0).leave("a");
  EXPECT_EQ(adapter().room_lists_allocated(), 2u);
  socket(0).leave("b");
  EXPECT_EQ(adapter().room_lists_allocated(), 1u);
  EXPECT_EQ(socket(0).rooms(), (std::vector<std::string>{std::string(socket(0).id())}));
  socket(0).join("c");
  EXPECT_EQ(socket(0).rooms(), (std::vector<std::string>{std::string(socket(0).id()), "c"}));
  peers[1]->send("41");  // socket 1 leaves "a" by disconnecting
  EXPECT_EQ(adapter().room_lists_allocated(), 1u);
  EXPECT_FALSE(adapter().has_room("a"));
  nsp().emit_to(to({"c"}), "x");
  EXPECT_EQ(receivers(R"(42["x"])"), (std::vector<int>{0}));
}

// Leaving a room moves the last member into the leaver's place: the mover's
// own record of its position must follow, whatever its list's block holds.
TEST_F(BroadcastTest, LeaveKeepsOtherMembersReachable) {
  for (int i = 0; i < 4; ++i) socket(i).join("a");
  for (int i = 0; i < 4; ++i) socket(i).join("r" + std::to_string(i));
  socket(0).leave("a");
  socket(1).leave("a");
  nsp().emit_to(to({"a"}), "x");
  EXPECT_EQ(receivers(R"(42["x"])"), (std::vector<int>{2, 3}));
  socket(3).leave("a");
  socket(2).leave("a");
  EXPECT_FALSE(adapter().has_room("a"));
  EXPECT_EQ(adapter().room_lists_allocated(), 4u);  // each still in its own r<i>
  EXPECT_EQ(socket(2).rooms(), (std::vector<std::string>{std::string(socket(2).id()), "r2"}));
}

// The adapter's slot number shares 4 bytes with the socket's state: 30 bits,
// all ones meaning none.
TEST_F(BroadcastTest, AdapterSlotKeptBesideTheState) {
  Socket& s = socket(0);
  uint32_t slot = s.adapter_slot();
  EXPECT_LT(slot, 4u);
  s.set_adapter_slot(Socket::kMaxAdapterSlots - 1);
  EXPECT_EQ(s.adapter_slot(), Socket::kMaxAdapterSlots - 1);
  EXPECT_TRUE(s.connected());
  s.set_adapter_slot(Socket::kNoAdapterSlot);
  EXPECT_EQ(s.adapter_slot(), Socket::kNoAdapterSlot);
  s.set_adapter_slot(Socket::kMaxAdapterSlots);  // out of range: none
  EXPECT_EQ(s.adapter_slot(), Socket::kNoAdapterSlot);
  EXPECT_TRUE(s.connected());
  s.set_adapter_slot(slot);
  nsp().emit_to(to({std::string(s.id())}), "x");  // found again through its slot
  EXPECT_EQ(receivers(R"(42["x"])"), (std::vector<int>{0}));
}

TEST_F(BroadcastTest, ToRoomsIsAUnionWithoutDuplicates) {
  socket(0).join("a");
  socket(1).join("a");
  socket(1).join("b");
  socket(2).join("b");
  nsp().emit_to(to({"a", "b"}), "x");
  EXPECT_EQ(receivers(R"(42["x"])"), (std::vector<int>{0, 1, 2}));
}

TEST_F(BroadcastTest, ExceptRooms) {
  socket(0).join("a");
  socket(1).join("a");
  socket(1).join("muted");
  nsp().emit_to(to({"a"}, {"muted"}), "x");
  EXPECT_EQ(receivers(R"(42["x"])"), (std::vector<int>{0}));
  nsp().emit_to(to({}, {"muted", std::string(socket(3).id())}), "y");
  EXPECT_EQ(receivers(R"(42["y"])"), (std::vector<int>{0, 2}));
}

TEST_F(BroadcastTest, ToASocketIdRoom) {
  nsp().emit_to(to({std::string(socket(2).id())}), "dm");
  EXPECT_EQ(receivers(R"(42["dm"])"), (std::vector<int>{2}));
  socket(0).join(socket(2).id());  // a room that happens to carry an id
  nsp().emit_to(to({std::string(socket(2).id())}), "dm");
  EXPECT_EQ(receivers(R"(42["dm"])"), (std::vector<int>{0, 2}));
}

TEST_F(BroadcastTest, SocketBroadcastExcludesItself) {
  socket(0).join("a");
  socket(1).join("a");
  socket(0).broadcast(to({"a"}), "x");
  EXPECT_EQ(receivers(R"(42["x"])"), (std::vector<int>{1}));
  socket(0).broadcast({}, "y");
  EXPECT_EQ(receivers(R"(42["y"])"), (std::vector<int>{1, 2, 3}));
}

TEST_F(BroadcastTest, VolatileSkipsRecipientsThatCannotSendNow) {
  peers[1]->conn.writable = false;
  BroadcastOptions o;
  o.flags.volatile_ = true;
  nsp().emit_to(o, "tick");
  EXPECT_EQ(receivers(R"(42["tick"])"), (std::vector<int>{0, 2, 3}));
  EXPECT_FALSE(socket(1).emit_volatile("tick"));
  EXPECT_TRUE(socket(0).emit_volatile("tick"));
  EXPECT_EQ(receivers(R"(42["tick"])"), (std::vector<int>{0}));
  nsp().emit("sure");
  EXPECT_EQ(receivers(R"(42["sure"])"), (std::vector<int>{0, 1, 2, 3}));
}

TEST_F(BroadcastTest, FramesAreSharedByPointer) {
  std::vector<std::string> atts = {"\x01\x02", "\x03"};
  nsp().emit("bin", "[" + std::string(kPh0) + "," + std::string(kPh1) + "]", atts);
  for (auto& p : peers) ASSERT_EQ(p->conn.frames.size(), 3u);
  for (std::size_t i = 1; i < peers.size(); ++i) {
    for (std::size_t k = 0; k < 3; ++k)
      EXPECT_EQ(peers[i]->conn.frames[k].get(), peers[0]->conn.frames[k].get());
  }
  EXPECT_EQ(peers[0]->conn.frames[0]->body(),
            R"(452-["bin",)" + std::string(kPh0) + "," + std::string(kPh1) + "]");
  EXPECT_TRUE(peers[0]->conn.frames[1]->binary);
  // The frames are held by the recipients only.
  EXPECT_EQ(peers[0]->conn.frames[0].use_count(), static_cast<long>(peers.size()));
}

TEST_F(BroadcastTest, FetchSocketsOfARoom) {
  socket(1).join("a");
  socket(3).join("a");
  std::vector<Socket*> got = nsp().fetch_sockets(to({"a"}));
  std::vector<Socket*> want = {&socket(1), &socket(3)};
  std::sort(got.begin(), got.end());
  std::sort(want.begin(), want.end());
  EXPECT_EQ(got, want);
  EXPECT_EQ(nsp().fetch_sockets().size(), 4u);
  std::vector<std::string> ids = adapter().sockets(std::vector<std::string>{"a"});
  EXPECT_EQ(ids.size(), 2u);
  EXPECT_EQ(nsp().size(), 4u);
  EXPECT_EQ(nsp().socket(socket(2).id()), &socket(2));
}

TEST_F(BroadcastTest, ServerSideJoinLeaveAndDisconnect) {
  socket(0).join("a");
  socket(1).join("a");
  std::string_view rooms[] = {"b", "c"};
  nsp().sockets_join(to({"a"}), rooms);
  EXPECT_EQ(nsp().fetch_sockets(to({"c"})).size(), 2u);
  std::string_view b[] = {"b"};
  nsp().sockets_leave(to({}, {"a"}), b);  // nobody outside a is in b
  EXPECT_EQ(nsp().fetch_sockets(to({"b"})).size(), 2u);
  nsp().sockets_leave(to({"a"}), b);
  EXPECT_FALSE(adapter().has_room("b"));
  nsp().disconnect_sockets(to({"c"}));
  EXPECT_EQ(peers[0]->take(), Frames{"41"});
  EXPECT_EQ(peers[1]->take(), Frames{"41"});
  EXPECT_EQ(nsp().size(), 2u);
  EXPECT_FALSE(adapter().has_room("a"));
  nsp().disconnect_sockets({}, true);
  EXPECT_TRUE(peers[2]->conn.closed.has_value());
  EXPECT_EQ(nsp().size(), 0u);
}

TEST_F(BroadcastTest, DisconnectedSocketsLeaveTheirRooms) {
  socket(0).join("a");
  socket(1).join("a");
  peers[0]->conn.close(engineio::CloseReason::TransportClose);
  nsp().emit_to(to({"a"}), "x");
  EXPECT_EQ(receivers(R"(42["x"])"), (std::vector<int>{1}));
  peers[1]->send("41");
  EXPECT_FALSE(adapter().has_room("a"));
  EXPECT_EQ(adapter().room_count(), 0u);
}

TEST_F(BroadcastTest, SlowConsumerClosingMidBroadcastIsSafe) {
  socket(0).join("a");
  socket(1).join("a");
  socket(2).join("a");
  peers[1]->conn.close_after_frames = 1;  // the first frame overflows its queue
  nsp().on_disconnect([&](Socket& s, socketio::DisconnectReason r) {
    seen.push_back(std::string(to_string(r)));
    s.nsp().emit_to(to({"a"}), "left");  // a nested broadcast from the callback
  });
  nsp().emit_to(to({"a"}), "x");
  EXPECT_EQ(seen, Frames{"transport error"});
  seen.clear();
  Frames f0 = peers[0]->take();
  Frames f2 = peers[2]->take();
  EXPECT_EQ(f0.size(), 2u);
  EXPECT_EQ(f2.size(), 2u);
  EXPECT_NE(std::find(f0.begin(), f0.end(), R"(42["x"])"), f0.end());
  EXPECT_NE(std::find(f2.begin(), f2.end(), R"(42["left"])"), f2.end());
  EXPECT_EQ(nsp().size(), 3u);
  auto fresh = h.join();  // reuses the freed slot
  nsp().emit("all");
  EXPECT_EQ(fresh->take(), Frames{R"(42["all"])"});
}

TEST_F(BroadcastTest, ReservedEventNamesAreNotSent) {
  // socket.io-client's parser would reject them and close the connection.
  EXPECT_FALSE(nsp().emit("connect"));
  EXPECT_FALSE(nsp().emit_to(to({}), "disconnect"));
  EXPECT_FALSE(socket(0).emit("connect_error"));
  EXPECT_FALSE(socket(0).emit_volatile("newListener"));
  EXPECT_FALSE(socket(0).broadcast({}, "removeListener"));
  EXPECT_FALSE(nsp().emit_with_ack({}, "disconnecting", "", {}, loop::Millis(10), nullptr));
  EXPECT_FALSE(socket(0).emit_with_ack("connect", "", {}, loop::Millis(10), nullptr));
  for (auto& p : peers) EXPECT_TRUE(p->take().empty());
}

TEST_F(BroadcastTest, ManySocketsJoinAndLeaveARoom) {
  std::vector<std::unique_ptr<Peer>> more;
  for (int i = 0; i < 50; ++i) {
    more.push_back(h.join());
    Harness::socket_of(*more.back()).join("big");
  }
  for (int i = 0; i < 50; i += 2) Harness::socket_of(*more[i]).leave("big");
  nsp().emit_to(to({"big"}), "x");
  for (int i = 0; i < 50; ++i) EXPECT_EQ(more[i]->take().size(), i % 2 == 0 ? 0u : 1u) << i;
  for (int i = 1; i < 50; i += 2) more[i]->conn.close(engineio::CloseReason::TransportClose);
  EXPECT_FALSE(adapter().has_room("big"));
}

}  // namespace
}  // namespace daheim::testing
