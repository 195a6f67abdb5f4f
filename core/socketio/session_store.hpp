// Where connection-state recovery keeps its event log and the sessions of
// disconnected sockets (socket.io-adapter's persistSession/restoreSession and
// the offsets its broadcast appends). One per Server, shared by the
// namespaces; every call happens on the loop thread.
//
// The interface is asynchronous where a remote store needs a round trip
// (Redis Streams: XADD answers the offset, GET/XRANGE answer a restore), so
// InMemorySessionStore and a streams store are interchangeable.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "socketio/broadcast_options.hpp"
#include "socketio/encoder.hpp"

namespace daheim::socketio {

// socket.io-client takes the last argument of every event for its offset when
// it is a string, volatile events included (socket.io PR #5539). A session
// remembers the last such string (as this hash, never 0) and the log's head
// when it was sent: a restore that comes with that "offset" uses the head.
uint64_t tail_hash(std::string_view text);
// The tail_hash of the last argument of `args` (as for Socket::emit) when it
// is a string, else 0.
uint64_t volatile_tail_of(std::string_view args);

// What a socket leaves behind ({sid, pid, rooms, data} in socket.io).
struct SavedSession {
  std::string nsp;
  std::string sid;
  std::string pid;
  std::vector<std::string> rooms;  // the socket's own id included
  std::string data;                // Socket::data() (JSON text, empty = unset)
  std::string owner;               // Namespace::set_session_owner (the user id)
  // The log's head when the socket connected: a client that got no logged
  // event (and so has no offset) missed everything after it.
  std::string start_offset;
  // The last volatile string argument it was sent (tail_hash), and the log's
  // head then; 0 when a logged event came after it.
  uint64_t volatile_tail = 0;
  std::string volatile_tail_offset;
  // Per-plugin state (plugin name -> bytes), see Namespace::on_persist.
  std::vector<std::pair<std::string, std::string>> extensions;
};

struct RestoredSession {
  SavedSession session;
  // The logged events after the client's offset that its rooms select, each
  // with its own offset as last argument, oldest first.
  std::vector<EncodedPacket> missed;
};

// socket.io-adapter's shouldIncludePacket: a logged event whose `opts`
// select a session with `rooms` (any room selected, or none given, and none
// excepted).
bool session_selects(const BroadcastOptions& opts, const std::vector<std::string>& rooms);

// An event about to be broadcast; views valid for the append() call only.
struct LoggedEvent {
  std::string_view nsp;
  std::string_view name;
  std::string_view args;  // JSON array text, as for Socket::emit
  std::span<const std::string> attachments;
  const BroadcastOptions& opts;
};

class SessionStore {
 public:
  // The encoded event, its offset appended as last argument, for delivery to
  // the sockets `opts` selects.
  using Deliver = std::function<void(const EncodedPacket&, const BroadcastOptions&)>;
  // nullopt: no session to restore (unknown, expired, or its offset is no
  // longer in the log); the socket then starts afresh.
  using RestoreCallback = std::function<void(std::optional<RestoredSession>)>;

  virtual ~SessionStore() = default;

  // Logs the event and calls `deliver` once with the encoded packet before
  // returning: with its offset (in memory), or without one when the adapter
  // logs it (Redis Streams: the adapter's XADD is the log, and every node
  // delivers what it reads back with the entry id as the offset). Events of
  // one namespace are delivered in append order.
  virtual void append(const LoggedEvent& event, Deliver deliver) = 0;
  // The offset of the newest logged event of namespace `nsp` that this node
  // delivered ("" when none): a socket connecting now has missed nothing
  // before it.
  virtual std::string head(std::string_view nsp) const = 0;

  // Keeps a disconnected socket's session for the configured duration (a
  // store that also writes while the socket lives replaces its copy).
  virtual void save(SavedSession session) = 0;
  // A store that outlives the process (Redis) keeps connected sockets'
  // sessions too, written when they change (Namespace batches them per loop
  // turn), so that a node's death loses none; a socket that leaves for good
  // is then forgotten.
  virtual bool keeps_live_sessions() const { return false; }
  virtual void save_live(SavedSession /*session*/) {}
  // Looks the session up; answers later on the loop, never before returning.
  // `offset` empty: the client got no logged event. The session stays in
  // the store until forget(): a restore that fails later (a refused token,
  // the client gone) leaves it for the next attempt.
  virtual void restore(std::string_view nsp, std::string_view pid, std::string_view offset,
                       RestoreCallback callback) = 0;
  // The session was restored (or its socket is live again): drop it.
  virtual void forget(std::string_view pid) = 0;
  // A socket connected with the restored session `pid`. A store shared by
  // several processes makes this process its only writer from now on: a
  // process whose socket of that session has not noticed its transport
  // died yet can no longer write the old state over it (RedisSessionStore).
  virtual void restored(std::string_view pid) { forget(pid); }
};

}  // namespace daheim::socketio
