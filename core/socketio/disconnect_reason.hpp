// Why a socket left its namespace, with the reference's reason strings.
#pragma once

#include <cstdint>
#include <string_view>

#include "engineio/handler.hpp"

namespace daheim::socketio {

enum class DisconnectReason : uint8_t {
  TransportClose,             // "transport close"
  TransportError,             // "transport error"
  PingTimeout,                // "ping timeout"
  ParseError,                 // "parse error"
  ForcedClose,                // "forced close"
  ServerShuttingDown,         // "server shutting down"
  ServerNamespaceDisconnect,  // "server namespace disconnect": Socket::disconnect()
  ClientNamespaceDisconnect,  // "client namespace disconnect": the client sent DISCONNECT
  ForcedServerClose,          // "forced server close": the client broke the protocol's state rules
  TokenExpired,               // "token expired": the user's token ran out (authentication)
  RateLimited,                // "rate limited": far over Options::event_rate (the client
                              // sees "io server disconnect")
};

std::string_view to_string(DisconnectReason reason);

// Whether connection-state recovery keeps the session of a socket that left
// for this reason (socket.io's RECOVERABLE_DISCONNECT_REASONS): the
// connection broke or the server closed it, not a deliberate disconnect.
bool is_recoverable(DisconnectReason reason);

// The reason sockets see when their Engine.IO connection closed.
DisconnectReason from_close_reason(engineio::CloseReason reason);

}  // namespace daheim::socketio
