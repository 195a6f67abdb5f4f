// What the host keeps per socket, packed into one Socket slot (no
// allocation): how many plugins saw on_connect (so that exactly those see
// on_disconnect) and how many deferred calls are outstanding.
// Slot keys: kSlotBase for the host, kSlotBase + 1 + i for plugin i's data,
// kHandleSlot for the socket's dhl_socket handle (socket_handles.hpp).
#pragma once

#include <cstddef>
#include <cstdint>

#include "socketio/socket.hpp"

namespace daheim::plugin {

inline constexpr uint32_t kSlotBase = 0x706c0000;  // "pl"
inline constexpr uint32_t kHandleSlot = kSlotBase - 1;

inline uint32_t plugin_slot_key(std::size_t index) {
  return kSlotBase + 1 + static_cast<uint32_t>(index);
}

namespace counters_detail {
inline constexpr uintptr_t kConnectedMask = 0xFFFF;
inline constexpr int kPendingShift = 16;

inline uintptr_t get(const socketio::Socket& s) {
  return reinterpret_cast<uintptr_t>(s.slot(kSlotBase));
}
inline void put(socketio::Socket& s, uintptr_t v) {
  s.set_slot(kSlotBase, reinterpret_cast<void*>(v));
}
}  // namespace counters_detail

inline std::size_t connected_plugins(const socketio::Socket& s) {
  return counters_detail::get(s) & counters_detail::kConnectedMask;
}
inline void set_connected_plugins(socketio::Socket& s, std::size_t n) {
  uintptr_t v = counters_detail::get(s) & ~counters_detail::kConnectedMask;
  counters_detail::put(s, v | (n & counters_detail::kConnectedMask));
}
inline std::size_t pending_call_count(const socketio::Socket& s) {
  return counters_detail::get(s) >> counters_detail::kPendingShift;
}
inline void add_pending_call(socketio::Socket& s) {
  counters_detail::put(s,
                       counters_detail::get(s) + (uintptr_t{1} << counters_detail::kPendingShift));
}
inline void remove_pending_call(socketio::Socket& s) {
  if (pending_call_count(s) > 0)
    counters_detail::put(
        s, counters_detail::get(s) - (uintptr_t{1} << counters_detail::kPendingShift));
}
inline void clear_counters(socketio::Socket& s) {
  counters_detail::put(s, 0);
}

}  // namespace daheim::plugin
