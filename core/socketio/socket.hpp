// One client's presence in one namespace (socket.io's server-side Socket).
// Owned by its Client. A Socket& stays valid until control returns to the
// event loop, even after a disconnect; to reach a socket later, keep its id
// and look it up with Namespace::socket().
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engineio/handler.hpp"
#include "engineio/sid.hpp"
#include "loop/timer.hpp"
#include "socketio/ack.hpp"
#include "socketio/broadcast_options.hpp"
#include "socketio/disconnect_reason.hpp"
#include "socketio/encoder.hpp"
#include "socketio/event_rate.hpp"
#include "socketio/packet.hpp"
#include "socketio/session_store.hpp"

namespace daheim::socketio {

class BroadcastAck;
class Client;
class Namespace;

class Socket {
 public:
  using DisconnectCallback = std::function<void(Socket&, DisconnectReason)>;

  Socket(Namespace& nsp, Client& client, std::string_view id, std::string auth);
  ~Socket();
  Socket(const Socket&) = delete;
  Socket& operator=(const Socket&) = delete;

  // 20 characters, distinct from the Engine.IO session id.
  std::string_view id() const {
    return extra_ && !extra_->long_id.empty() ? std::string_view(extra_->long_id)
                                              : std::string_view(id_.data(), id_.size());
  }
  Namespace& nsp() const { return nsp_; }
  Client& client() const { return client_; }
  engineio::Connection& connection() const;
  const engineio::Handshake& handshake() const;
  // The CONNECT payload (JSON object text), "{}" when the client sent none.
  // The CONNECT payload; "{}" when the client sent none (kept only otherwise).
  std::string_view auth() const {
    return rare_ && !rare_->auth.empty() ? std::string_view(rare_->auth) : "{}";
  }
  // False while connect middleware runs and after the disconnect.
  bool connected() const { return state() == State::Connected; }

  // Connection-state recovery: the private session id sent in the CONNECT
  // reply (empty when recovery is off), and whether this socket took over a
  // disconnected one's session (same id, rooms, data; missed events sent).
  std::string_view pid() const {
    const Recovery* r = recovery();
    return r ? std::string_view(r->pid) : "";
  }
  bool recovered() const { return recovery() && recovery()->recovered; }
  // What a recovered socket's session carried for `name` (Namespace::on_persist),
  // until the connection handlers ran; null when nothing.
  const std::string* restored_extension(std::string_view name) const;
  // The owner of the session being restored (SavedSession::owner).
  const std::string& restored_owner() const { return recovery()->restored->session.owner; }

  // false: some room was not joined (Options::max_rooms_per_socket).
  bool join(std::string_view room);
  bool join(std::span<const std::string_view> rooms);
  void leave(std::string_view room);
  std::vector<std::string> rooms() const;

  // `args`: JSON array text of the arguments (empty = none), placeholders
  // for `attachments` included; it is sent as it is, unchecked. false: not
  // sent (not connected, a reserved event name, or the connection refused
  // the frames).
  bool emit(std::string_view event, std::string_view args = {},
            std::span<const std::string> attachments = {});
  // Dropped unless the connection can send right now.
  bool emit_volatile(std::string_view event, std::string_view args = {},
                     std::span<const std::string> attachments = {});
  // false: not sent and `callback` will not run (as for emit, or
  // Options::max_pending_acks outstanding). true: `callback` runs exactly
  // once: with the answer, or timed_out = true at the timeout or when the
  // socket disconnects first.
  bool emit_with_ack(std::string_view event, std::string_view args,
                     std::span<const std::string> attachments, loop::Millis timeout,
                     AckCallback callback);
  // Answers the client's event that carried `id` (Event::ack_id).
  bool ack(uint64_t id, std::string_view args = {}, std::span<const std::string> attachments = {});
  // Broadcasts to what `opts` selects, except this socket (socket.to(...).emit).
  bool broadcast(BroadcastOptions opts, std::string_view event, std::string_view args = {},
                 std::span<const std::string> attachments = {});

  // Sends DISCONNECT and leaves the namespace ("server namespace disconnect").
  // close_transport: every socket of the client does so, then the Engine.IO
  // connection closes.
  void disconnect(bool close_transport = false);
  // Sends DISCONNECT and leaves the namespace; the server side sees `reason`
  // (e.g. TokenExpired). The client sees "io server disconnect".
  void disconnect_because(DisconnectReason reason);
  // Runs once when the socket leaves the namespace, after it left its rooms
  // (also when a middleware admitted it and a later check refused it).
  void on_disconnect(DisconnectCallback callback);

  // Application data as JSON text (socket.data); empty means unset.
  std::string& data() { return rare().data; }
  const std::string& data() const;
  // Opaque per-socket pointers keyed by an integer (plugins). The owner frees
  // what it stored, typically from a disconnect callback. nullptr erases.
  void* slot(uint32_t key) const;
  void set_slot(uint32_t key, void* value);

  // For adapters: write pre-encoded frames (shared, never copied).
  bool write(const EncodedPacket& packet, bool volatile_);
  // Same for a packet with ack id `ack_id` whose answer goes to `ack`. false:
  // not written (also when the socket has max_pending_acks outstanding).
  bool write_with_ack(const EncodedPacket& packet, bool volatile_, uint64_t ack_id,
                      const std::shared_ptr<BroadcastAck>& ack);
  std::size_t pending_acks() const { return rare_ ? rare_->acks.size() : 0; }
  // For the namespace's adapter: its own number for this socket, so that it
  // needs no index by id beside the namespace's. kNoAdapterSlot: none. Kept
  // in 30 bits: numbers are below kMaxAdapterSlots (a larger one is kept as
  // none; the adapter hands out no more).
  static constexpr uint32_t kNoAdapterSlot = UINT32_MAX;
  static constexpr uint32_t kMaxAdapterSlots = (1u << 30) - 1;
  uint32_t adapter_slot() const {
    return adapter_slot_ == kMaxAdapterSlots ? kNoAdapterSlot : adapter_slot_;
  }
  void set_adapter_slot(uint32_t slot) { adapter_slot_ = std::min(slot, kMaxAdapterSlots); }

  // For Client and Namespace.
  // Recovery on: a new session (fresh pid) or the one being restored.
  void start_session(std::string pid, std::string start_offset);
  void restore_session(RestoredSession restored);
  // The rooms of the session being restored (the socket is registered).
  void join_restored_rooms();
  // Drops what the connection handlers needed of the restored session.
  void end_restore();
  const std::string& start_offset() const { return recovery()->start_offset; }
  // Namespace::session_changed's batching: true when newly marked / cleared.
  bool mark_changed() {
    Recovery* r = recovery();
    return r && !std::exchange(r->changed, true);
  }
  bool clear_changed() {
    Recovery* r = recovery();
    return r && std::exchange(r->changed, false);
  }
  uint64_t volatile_tail() const { return recovery()->volatile_tail; }
  const std::string& volatile_tail_offset() const { return recovery()->volatile_tail_offset; }
  // The long id or the recovery record is allocated (tests).
  bool extra_allocated() const { return extra_ != nullptr; }
  void on_connected();
  void on_event_packet(Packet& packet, std::string_view args);
  void on_ack_packet(Packet& packet);
  // Leaves the namespace (idempotent): rooms, index, callbacks, acks.
  void teardown(DisconnectReason reason);

 private:
  enum class State : uint8_t { Connecting, Connected, Disconnected };
  struct Recovery {
    // Declared so that clang sees it constructible inside the incomplete Socket
    // (std::optional<Recovery>::emplace() below).
    Recovery() {}
    std::string pid;
    std::string start_offset;
    bool recovered = false;
    uint64_t volatile_tail = 0;  // SavedSession::volatile_tail
    bool changed = false;        // queued for Namespace::save_changed_sessions
    std::string volatile_tail_offset;
    std::optional<RestoredSession> restored;  // until the connection handlers ran
  };
  // What only a protocol 4 client's socket or one with recovery on needs,
  // behind one pointer (an idle protocol 5 socket without recovery keeps none).
  struct Extra {
    // An id longer than kIdLength: "/nsp#<sid>" of a protocol 4 client.
    std::string long_id;
    std::optional<Recovery> recovery;  // recovery on only
  };
  Extra& extra();
  Recovery* recovery() const { return extra_ && extra_->recovery ? &*extra_->recovery : nullptr; }
  State state() const { return static_cast<State>(state_); }
  void set_state(State state) { state_ = static_cast<uint32_t>(state); }
  struct PendingAck {
    uint64_t id;
    loop::TimePoint deadline;
    AckCallback callback;                     // emit_with_ack, or
    std::shared_ptr<BroadcastAck> broadcast;  // a broadcast's collector
  };

  // What few sockets use, allocated on first use: an idle socket without
  // plugin state, acks, auth payload or event limit keeps none of it.
  struct Rare {
    std::string auth;
    std::string data;
    std::vector<std::pair<uint32_t, void*>> slots;
    std::vector<DisconnectCallback> on_disconnect;
    std::vector<PendingAck> acks;
    std::unique_ptr<loop::Timer> ack_timer;  // created on first use
    EventRate event_rate;
  };
  Rare& rare();

  bool has_ack_room();
  void note_written(const EncodedPacket& packet, bool volatile_);
  // Options::event_rate: false when the event must not be dispatched.
  bool admit_event(const Packet& packet);
  void on_ack_timer();
  void arm_ack_timer();
  void fail_pending_acks();

  // 56 bytes (a 64-byte malloc chunk): the adapter's slot and the state share
  // the 4 bytes after the id.
  std::array<char, engineio::kIdLength> id_{};
  uint32_t adapter_slot_ : 30 = kMaxAdapterSlots;  // kMaxAdapterSlots: none
  uint32_t state_ : 2 = static_cast<uint32_t>(State::Connecting);
  Namespace& nsp_;
  Client& client_;
  std::unique_ptr<Rare> rare_;
  std::unique_ptr<Extra> extra_;
};

}  // namespace daheim::socketio
