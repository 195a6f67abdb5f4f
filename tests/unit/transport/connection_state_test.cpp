// ConnectionState: lws's per-connection block, zero-filled by lws. The
// session entry shares storage with other roles' members and is read only
// under a role that owns it.
#include "transport/connection_state.hpp"

#include <gtest/gtest.h>

#include <cstring>

namespace daheim::transport {
namespace {

SessionEntry* fake_entry() {
  return reinterpret_cast<SessionEntry*>(0x1000);
}

TEST(ConnectionState, FitsLwsSmallerChunk) {
  static_assert(sizeof(ConnectionState) == 40);
  ConnectionState pss;
  std::memset(static_cast<void*>(&pss), 0, sizeof pss);  // as lws hands it over
  EXPECT_EQ(pss.role, Role::None);
  EXPECT_EQ(pss.session_entry(), nullptr);
}

TEST(ConnectionState, SessionEntryOnlyUnderItsRoles) {
  ConnectionState pss;
  std::memset(static_cast<void*>(&pss), 0, sizeof pss);
  for (Role role : {Role::PollHeld, Role::WsPrimary, Role::WsProbe}) {
    pss.role = role;
    pss.entry = fake_entry();
    EXPECT_EQ(pss.session_entry(), fake_entry());
    pss.entry = nullptr;
    EXPECT_EQ(pss.session_entry(), nullptr);
  }
}

// A held WebSocket handshake leaves its id in the shared bytes when it ends
// (role None); a carried WebSocket keeps its forwarder's record there.
TEST(ConnectionState, OtherRolesMembersAreNoEntry) {
  ConnectionState pss;
  std::memset(static_cast<void*>(&pss), 0, sizeof pss);
  pss.role = Role::WsHeld;
  pss.held_handshake = 42;
  EXPECT_EQ(pss.session_entry(), nullptr);
  pss.role = Role::None;
  EXPECT_EQ(pss.session_entry(), nullptr);
  pss.role = Role::WsCarried;
  pss.carried = reinterpret_cast<CarriedSocket*>(0x2000);
  EXPECT_EQ(pss.session_entry(), nullptr);
  pss.role = Role::WsClosing;
  EXPECT_EQ(pss.session_entry(), nullptr);
  pss.role = Role::Post;
  std::memcpy(pss.sid, "abcdefghijklmnopqrst", 20);
  EXPECT_EQ(pss.session_entry(), nullptr);
}

}  // namespace
}  // namespace daheim::transport
