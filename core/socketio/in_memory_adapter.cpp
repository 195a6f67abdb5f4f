#include "socketio/in_memory_adapter.hpp"

#include <algorithm>

#include "socketio/broadcast_ack.hpp"
#include "socketio/namespace.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::socketio {

static_assert(Socket::kNoAdapterSlot == UINT32_MAX);

std::size_t InMemoryAdapter::room_lists_allocated() const {
  return static_cast<std::size_t>(std::count_if(slots_.begin(), slots_.end(),
                                                [](const Slot& s) { return s.rooms.allocated(); }));
}

bool InMemoryAdapter::has_room(std::string_view room) const {
  if (rooms_.find(room) != rooms_.end()) return true;
  uint32_t slot = slot_of(room);
  return slot != kNoSlot && slots_[slot].own_room;
}

uint32_t InMemoryAdapter::slot_of(std::string_view socket_id) const {
  const Socket* socket = nsp_.find_socket(socket_id);
  if (socket == nullptr) return kNoSlot;
  uint32_t i = socket->adapter_slot();
  return i < slots_.size() && slots_[i].socket == socket ? i : kNoSlot;
}

uint32_t InMemoryAdapter::ensure_slot(std::string_view socket_id) {
  Socket* socket = nsp_.find_socket(socket_id);
  if (socket == nullptr) return kNoSlot;
  if (uint32_t i = socket->adapter_slot(); i < slots_.size() && slots_[i].socket == socket)
    return i;
  uint32_t i;
  if (!free_slots_.empty()) {
    i = free_slots_.back();
    free_slots_.pop_back();
  } else if (slots_.size() >= Socket::kMaxAdapterSlots) {
    return kNoSlot;  // a socket keeps its slot's number in 30 bits (~10^9 sockets)
  } else {
    i = static_cast<uint32_t>(slots_.size());
    slots_.emplace_back();
  }
  slots_[i].socket = socket;
  socket->set_adapter_slot(i);
  return i;
}

void InMemoryAdapter::join(uint32_t slot, std::string_view room) {
  Slot& s = slots_[slot];
  if (room == s.socket->id()) {
    if (!s.own_room) nsp_.notify_room(room, room, true);
    s.own_room = true;
    return;
  }
  auto it = rooms_.find(room);
  if (it != rooms_.end())
    for (const Membership& m : s.rooms)
      if (m.room == &it->second) return;
  if (s.rooms.size() >= nsp_.server().options().max_rooms_per_socket) {
    ++nsp_.server().stats().rooms_refused;
    return;
  }
  if (it == rooms_.end()) {
    it = rooms_.emplace(std::string(room), Room{}).first;
    it->second.name = &it->first;
    on_room_created(it->first);
  }
  Room& r = it->second;
  s.rooms.push_back({&r, static_cast<uint32_t>(r.members.size())});
  r.members.push_back(slot);
  nsp_.notify_room(*r.name, s.socket->id(), true);
}

void InMemoryAdapter::leave(uint32_t slot, Room& room) {
  Slot& s = slots_[slot];
  auto m = std::find_if(s.rooms.begin(), s.rooms.end(),
                        [&](const Membership& x) { return x.room == &room; });
  if (m == s.rooms.end()) return;
  uint32_t pos = m->pos;
  *m = s.rooms.back();
  s.rooms.pop_back();
  uint32_t last = room.members.back();
  room.members[pos] = last;
  room.members.pop_back();
  if (last != slot) {
    for (Membership& lm : slots_[last].rooms) {
      if (lm.room == &room) {
        lm.pos = pos;
        break;
      }
    }
  }
  nsp_.notify_room(*room.name, s.socket->id(), false);
  if (room.members.empty()) {
    auto it = rooms_.find(*room.name);
    std::string name = it->first;
    rooms_.erase(it);
    on_room_deleted(name);
  }
}

void InMemoryAdapter::add_all(std::string_view socket_id, std::span<const std::string_view> rooms) {
  uint32_t slot = ensure_slot(socket_id);
  if (slot == kNoSlot) return;
  for (std::string_view room : rooms) join(slot, room);
}

void InMemoryAdapter::del(std::string_view socket_id, std::string_view room) {
  uint32_t slot = slot_of(socket_id);
  if (slot == kNoSlot) return;
  Slot& s = slots_[slot];
  if (room == s.socket->id()) {
    if (s.own_room) nsp_.notify_room(room, room, false);
    s.own_room = false;
    return;
  }
  if (auto r = rooms_.find(room); r != rooms_.end()) leave(slot, r->second);
}

void InMemoryAdapter::del_all(std::string_view socket_id) {
  uint32_t slot = slot_of(socket_id);
  if (slot == kNoSlot) return;
  Slot& s = slots_[slot];
  s.socket->set_adapter_slot(kNoSlot);
  while (!s.rooms.empty()) leave(slot, *s.rooms.back().room);  // the last leave frees the list
  if (s.own_room) nsp_.notify_room(socket_id, socket_id, false);
  s.own_room = false;
  s.socket = nullptr;
  (busy_ > 0 ? deferred_free_ : free_slots_).push_back(slot);
}

template <class F>
void InMemoryAdapter::for_each_member(std::string_view room, F&& f) {
  if (auto it = rooms_.find(room); it != rooms_.end())
    for (uint32_t slot : it->second.members) f(slot);
  if (uint32_t slot = slot_of(room); slot != kNoSlot && slots_[slot].own_room) f(slot);
}

uint32_t InMemoryAdapter::next_epoch() {
  if (++epoch_ == 0) {
    for (Slot& s : slots_) s.mark = 0;
    epoch_ = 1;
  }
  return epoch_;
}

void InMemoryAdapter::collect(const BroadcastOptions& opts, std::vector<uint32_t>& out) {
  uint32_t epoch = next_epoch();
  for (const std::string& room : opts.except)
    for_each_member(room, [&](uint32_t slot) { slots_[slot].mark = epoch; });
  auto select = [&](uint32_t slot) {
    Slot& s = slots_[slot];
    if (s.mark == epoch || s.socket == nullptr) return;
    s.mark = epoch;
    if (s.socket->connected()) out.push_back(slot);
  };
  if (opts.rooms.empty()) {
    for (uint32_t slot = 0; slot < slots_.size(); ++slot) select(slot);
  } else {
    for (const std::string& room : opts.rooms) for_each_member(room, select);
  }
}

// Delivery may close connections and so disconnect sockets (a slow consumer):
// slots freed meanwhile are not reused before the loop ends, and a freed slot
// has no socket.
template <class F>
void InMemoryAdapter::for_each_recipient(const BroadcastOptions& opts, F&& f) {
  std::vector<uint32_t> recipients = std::move(scratch_);
  recipients.clear();
  collect(opts, recipients);
  ++busy_;
  for (uint32_t slot : recipients)
    if (Socket* s = slots_[slot].socket) f(*s);
  end_busy();
  scratch_ = std::move(recipients);
}

void InMemoryAdapter::end_busy() {
  if (--busy_ > 0) return;
  free_slots_.insert(free_slots_.end(), deferred_free_.begin(), deferred_free_.end());
  deferred_free_.clear();
}

void InMemoryAdapter::broadcast(const EncodedPacket& packet, const BroadcastOptions& opts) {
  bool volatile_ = opts.flags.volatile_;
  for_each_recipient(opts, [&](Socket& s) { s.write(packet, volatile_); });
}

void InMemoryAdapter::broadcast_with_ack(const EncodedPacket& packet, uint64_t ack_id,
                                         const BroadcastOptions& opts,
                                         const std::shared_ptr<BroadcastAck>& ack) {
  std::size_t reached = 0;
  bool volatile_ = opts.flags.volatile_;
  for_each_recipient(opts, [&](Socket& s) {
    if (s.write_with_ack(packet, volatile_, ack_id, ack)) ++reached;
  });
  ack->add_client_count(reached);
}

std::vector<std::string> InMemoryAdapter::sockets(std::span<const std::string> rooms) {
  BroadcastOptions opts;
  opts.rooms.assign(rooms.begin(), rooms.end());
  std::vector<std::string> ids;
  for (Socket* s : fetch_sockets(opts)) ids.emplace_back(s->id());
  return ids;
}

std::vector<std::string> InMemoryAdapter::socket_rooms(std::string_view socket_id) {
  std::vector<std::string> rooms;
  uint32_t slot = slot_of(socket_id);
  if (slot == kNoSlot) return rooms;
  const Slot& s = slots_[slot];
  if (s.own_room) rooms.emplace_back(s.socket->id());
  for (const Membership& m : s.rooms) rooms.push_back(*m.room->name);
  return rooms;
}

std::vector<std::string> InMemoryAdapter::all_rooms() const {
  std::vector<std::string> out;
  out.reserve(rooms_.size() + slots_.size() - free_slots_.size());
  for (const Slot& s : slots_)
    if (s.socket != nullptr && s.own_room) out.emplace_back(s.socket->id());
  for (const auto& [name, room] : rooms_) out.push_back(name);
  return out;
}

std::vector<Socket*> InMemoryAdapter::fetch_sockets(const BroadcastOptions& opts) {
  std::vector<uint32_t> slots;
  collect(opts, slots);
  std::vector<Socket*> out;
  out.reserve(slots.size());
  for (uint32_t slot : slots) out.push_back(slots_[slot].socket);
  return out;
}

void InMemoryAdapter::add_sockets(const BroadcastOptions& opts,
                                  std::span<const std::string_view> rooms) {
  for_each_recipient(opts, [&](Socket& s) { s.join(rooms); });
}

void InMemoryAdapter::del_sockets(const BroadcastOptions& opts,
                                  std::span<const std::string_view> rooms) {
  for_each_recipient(opts, [&](Socket& s) {
    for (std::string_view room : rooms) s.leave(room);
  });
}

void InMemoryAdapter::disconnect_sockets(const BroadcastOptions& opts, bool close_transport) {
  for_each_recipient(opts, [&](Socket& s) { s.disconnect(close_transport); });
}

}  // namespace daheim::socketio
