#include "plugin/socket_handles.hpp"

#include "plugin/socket_counters.hpp"
#include "socketio/socket.hpp"

namespace daheim::plugin {
namespace {

constexpr unsigned kHalf = sizeof(uintptr_t) * 4;
constexpr uintptr_t kIndexMask = (uintptr_t{1} << kHalf) - 1;
constexpr uintptr_t kGenerationMask = kIndexMask;

uintptr_t encode(uint32_t index, uintptr_t generation) {
  return (generation << kHalf) | (uintptr_t{index} + 1);
}

// The table index kept in the socket's slot, plus one (0: none).
uintptr_t slot_value(const socketio::Socket& socket) {
  return reinterpret_cast<uintptr_t>(socket.slot(kHandleSlot));
}

}  // namespace

dhl_socket* SocketHandles::handle(socketio::Socket& socket) {
  if (uintptr_t v = slot_value(socket)) {
    const Entry& e = entries_[v - 1];
    return reinterpret_cast<dhl_socket*>(encode(static_cast<uint32_t>(v - 1), e.generation));
  }
  uint32_t index;
  if (!free_.empty()) {
    index = free_.back();
    free_.pop_back();
  } else {
    index = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  }
  entries_[index].socket = &socket;
  socket.set_slot(kHandleSlot, reinterpret_cast<void*>(uintptr_t{index} + 1));
  return reinterpret_cast<dhl_socket*>(encode(index, entries_[index].generation));
}

socketio::Socket* SocketHandles::resolve(const dhl_socket* handle, bool& known) const {
  uintptr_t v = reinterpret_cast<uintptr_t>(handle);
  uintptr_t index = (v & kIndexMask) - 1;  // wraps for 0: out of range
  known = index < entries_.size();
  if (!known) return nullptr;
  const Entry& e = entries_[index];
  if (e.socket == nullptr || (v >> kHalf) != e.generation) return nullptr;
  return e.socket;
}

void SocketHandles::release(socketio::Socket& socket) {
  uintptr_t v = slot_value(socket);
  if (v == 0) return;
  Entry& e = entries_[v - 1];
  e.socket = nullptr;
  uintptr_t next = (e.generation + 1) & kGenerationMask;
  e.generation = next ? next : 1;
  free_.push_back(static_cast<uint32_t>(v - 1));
  socket.set_slot(kHandleSlot, nullptr);
}

}  // namespace daheim::plugin
