// What the host keeps per socket, packed into one Socket slot (no
// allocation): how many plugins saw on_connect (so that exactly those see
// on_disconnect) and how many deferred calls are outstanding.
// Slot keys: kSlotBase for the host, kSlotBase + 1 + i for plugin i's data.
#pragma once

#include <cstddef>
#include <cstdint>

#include "socketio/socket.hpp"

namespace daheim::plugin {

inline constexpr uint32_t kSlotBase = 0x706c0000;  // "pl"

inline uint32_t plugin_slot_key(std::size_t index) {
  return kSlotBase + 1 + static_cast<uint32_t>(index);
}

namespace tally_detail {
inline constexpr uintptr_t kConnectedMask = 0xFFFF;
inline constexpr int kPendingShift = 16;

inline uintptr_t get(const socketio::Socket& s) {
  return reinterpret_cast<uintptr_t>(s.slot(kSlotBase));
}
inline void put(socketio::Socket& s, uintptr_t v) {
  s.set_slot(kSlotBase, reinterpret_cast<void*>(v));
}
}  // namespace tally_detail

inline std::size_t connected_plugins(const socketio::Socket& s) {
  return tally_detail::get(s) & tally_detail::kConnectedMask;
}
inline void set_connected_plugins(socketio::Socket& s, std::size_t n) {
  uintptr_t v = tally_detail::get(s) & ~tally_detail::kConnectedMask;
  tally_detail::put(s, v | (n & tally_detail::kConnectedMask));
}
inline std::size_t pending_call_count(const socketio::Socket& s) {
  return tally_detail::get(s) >> tally_detail::kPendingShift;
}
inline void add_pending_call(socketio::Socket& s) {
  tally_detail::put(s, tally_detail::get(s) + (uintptr_t{1} << tally_detail::kPendingShift));
}
inline void remove_pending_call(socketio::Socket& s) {
  if (pending_call_count(s) > 0)
    tally_detail::put(s, tally_detail::get(s) - (uintptr_t{1} << tally_detail::kPendingShift));
}
inline void clear_tally(socketio::Socket& s) {
  tally_detail::put(s, 0);
}

}  // namespace daheim::plugin
