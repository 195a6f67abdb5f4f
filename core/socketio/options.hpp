// Socket.IO server options (the reference's names, snake_case).
#pragma once

#include <cstddef>

#include "loop/timer.hpp"
#include "socketio/decoder.hpp"
#include "socketio/event_rate.hpp"

namespace daheim::socketio {

// Connection-state recovery (socket.io's connectionStateRecovery): a client
// that comes back within max_disconnection_duration gets its socket id,
// rooms, data and the events it missed. Off unless enabled.
struct RecoveryOptions {
  bool enabled = false;
  loop::Millis max_disconnection_duration{120000};
  // Bounds of the in-memory store: disconnected sessions kept (the oldest
  // goes first), events logged and the log's approximate memory (frames,
  // rooms, entries; the oldest go first; a session whose offset went with
  // them starts afresh).
  std::size_t max_sessions = 100000;
  std::size_t max_log_packets = 100000;
  std::size_t max_log_bytes = 64 * 1024 * 1024;
};

struct Options {
  // A connection that joins no namespace within this time is closed.
  loop::Millis connect_timeout{45000};
  // Attachments per binary packet (socket.io-parser maxAttachments).
  std::size_t max_attachments = kDefaultMaxAttachments;
  // Server-to-client acks one socket may have outstanding; emit_with_ack
  // refuses more (the reference has no limit).
  std::size_t max_pending_acks = 256;
  // Broadcasts with ack one namespace may have outstanding.
  std::size_t max_pending_broadcast_acks = 1024;
  RecoveryOptions recovery;
  // Client events per socket (EventRate): over the rate an event is refused
  // (an ack it asked for is [{"error":"rate_limited"}]); past max_debt
  // refused events the socket is disconnected ("rate limited").
  EventRateLimit event_rate{200, 1000, 1000};
  // Rooms one socket may be in besides its own; joins beyond are refused.
  std::size_t max_rooms_per_socket = 1000;
  // Namespaces one client may join at once; a CONNECT beyond gets
  // CONNECT_ERROR "Too many namespaces".
  std::size_t max_namespaces_per_client = 16;
  // Largest CONNECT payload (the auth object) in bytes; larger ones get
  // CONNECT_ERROR "Auth payload too large". It is kept while the socket lives.
  std::size_t max_auth_payload = 16384;
};

}  // namespace daheim::socketio
