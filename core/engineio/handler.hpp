// The seam between Engine.IO and the layer above it (Socket.IO, or the echo
// handler of the conformance mode). The upper layer implements Handler and
// talks back through Connection; tests drive either side with fakes.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "engineio/handshake.hpp"
#include "engineio/packet.hpp"
#include "loop/timer.hpp"

namespace daheim::engineio {

enum class TransportKind : uint8_t { Polling, WebSocket };

// The reference's close reasons, as Socket.IO reports them upward.
enum class CloseReason : uint8_t {
  TransportClose,      // the client closed the transport or sent a close packet
  TransportError,      // protocol violation by the transport (overlap, heartbeat direction, ...)
  PingTimeout,         // no pong within pingTimeout
  ParseError,          // an undecodable packet
  ForcedClose,         // the server closed the session
  ServerShuttingDown,  // the server is stopping
};

std::string_view to_string(CloseReason reason);
std::string_view to_string(TransportKind kind);

using Header = std::pair<std::string, std::string>;

// The session as the upper layer sees it.
class Connection {
 public:
  virtual ~Connection() = default;
  virtual std::string_view id() const = 0;
  virtual const Handshake& handshake() const = 0;
  virtual TransportKind transport() const = 0;
  // Queues a message packet frame (built with make_text_frame(Message, ...)
  // or make_binary_frame). Returns false if the session is closing or closed.
  virtual bool send(FramePtr frame) = 0;
  // True when a frame sent now goes out without queueing (for volatile).
  virtual bool can_send_now() const = 0;
  // Server-side close. ForcedClose and ServerShuttingDown flush queued
  // frames first; other reasons close at once.
  virtual void close(CloseReason reason) = 0;
  virtual loop::TimerQueue& timers() = 0;
};

class Handler {
 public:
  virtual ~Handler() = default;
  virtual void on_message(std::string_view text) = 0;
  virtual void on_binary(std::string_view data) = 0;
  // Called once; the connection accepts no more frames afterwards.
  virtual void on_close(CloseReason reason) = 0;
};

}  // namespace daheim::engineio
