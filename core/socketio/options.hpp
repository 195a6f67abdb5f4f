// Socket.IO server options (the reference's names, snake_case).
#pragma once

#include <cstddef>

#include "loop/timer.hpp"
#include "socketio/decoder.hpp"

namespace daheim::socketio {

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
};

}  // namespace daheim::socketio
