// The single-process adapter. Rooms are interned (one entry per room name,
// members as compact slot numbers); the room named after a socket's own id is
// a flag on the socket's slot, not an interned room. A socket id finds its
// slot through the namespace's index (Namespace::find_socket, then
// Socket::adapter_slot): no second map keyed by id. A broadcast collects its
// recipients once, then hands each one the same encoded frames.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "socketio/adapter.hpp"
#include "socketio/compact_list.hpp"

namespace daheim::socketio {

class Namespace;

class InMemoryAdapter : public Adapter {
 public:
  explicit InMemoryAdapter(Namespace& nsp) : nsp_(nsp) {}
  InMemoryAdapter(const InMemoryAdapter&) = delete;
  InMemoryAdapter& operator=(const InMemoryAdapter&) = delete;

  void add_all(std::string_view socket_id, std::span<const std::string_view> rooms) override;
  void del(std::string_view socket_id, std::string_view room) override;
  void del_all(std::string_view socket_id) override;
  void broadcast(const EncodedPacket& packet, const BroadcastOptions& opts) override;
  void broadcast_with_ack(const EncodedPacket& packet, uint64_t ack_id,
                          const BroadcastOptions& opts,
                          const std::shared_ptr<BroadcastAck>& ack) override;
  std::vector<std::string> sockets(std::span<const std::string> rooms) override;
  std::vector<std::string> socket_rooms(std::string_view socket_id) override;
  std::vector<Socket*> fetch_sockets(const BroadcastOptions& opts) override;
  void add_sockets(const BroadcastOptions& opts, std::span<const std::string_view> rooms) override;
  void del_sockets(const BroadcastOptions& opts, std::span<const std::string_view> rooms) override;
  void disconnect_sockets(const BroadcastOptions& opts, bool close_transport) override;

  void all_rooms_async(RoomsCallback callback) override { callback(all_rooms(), true); }
  // Every room with a member here, the sockets' own-id rooms included (as
  // socket.io-adapter's `rooms` keys).
  std::vector<std::string> all_rooms() const;

  // Interned rooms (the implicit own-id rooms are not counted).
  std::size_t room_count() const { return rooms_.size(); }
  bool has_room(std::string_view room) const;
  // Slots whose room list is allocated (sockets in a room besides their own).
  std::size_t room_lists_allocated() const;

 protected:
  Namespace& nsp() const { return nsp_; }
  // An interned room got its first member / lost its last one (cluster
  // adapters subscribe to its channel meanwhile).
  virtual void on_room_created(const std::string& /*room*/) {}
  virtual void on_room_deleted(const std::string& /*room*/) {}

 private:
  struct Room;
  struct Membership {
    Room* room;
    uint32_t pos;  // index in room->members
  };
  // 24 bytes: one per socket of the namespace, most in no room but their own.
  struct Slot {
    Socket* socket = nullptr;       // null: free (or freed during a broadcast)
    CompactList<Membership> rooms;  // allocated on the first join, freed on the last leave
    uint32_t mark = 0;              // == epoch_: already selected or excepted
    bool own_room = false;          // member of the room named after its id
  };
  static_assert(sizeof(Slot) <= 24);
  struct Room {
    const std::string* name = nullptr;  // the key in rooms_
    std::vector<uint32_t> members;      // slots
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  static constexpr uint32_t kNoSlot = UINT32_MAX;  // Socket::kNoAdapterSlot

  uint32_t ensure_slot(std::string_view socket_id);
  // The slot of the registered socket `socket_id`, or kNoSlot.
  uint32_t slot_of(std::string_view socket_id) const;
  void join(uint32_t slot, std::string_view room);
  void leave(uint32_t slot, Room& room);
  // Defined in the .cpp (used only there).
  template <class F>
  void for_each_member(std::string_view room, F&& f);
  template <class F>
  void for_each_recipient(const BroadcastOptions& opts, F&& f);
  void collect(const BroadcastOptions& opts, std::vector<uint32_t>& out);
  uint32_t next_epoch();
  void end_busy();

  Namespace& nsp_;
  std::deque<Slot> slots_;  // stable addresses; indices are never reused mid-broadcast
  std::vector<uint32_t> free_slots_;
  std::vector<uint32_t> deferred_free_;
  std::unordered_map<std::string, Room, StringHash, std::equal_to<>> rooms_;
  std::vector<uint32_t> scratch_;
  uint32_t epoch_ = 0;
  unsigned busy_ = 0;
};

}  // namespace daheim::socketio
