#include "socketio/disconnect_reason.hpp"

namespace daheim::socketio {

std::string_view to_string(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::TransportClose:
      return "transport close";
    case DisconnectReason::TransportError:
      return "transport error";
    case DisconnectReason::PingTimeout:
      return "ping timeout";
    case DisconnectReason::ParseError:
      return "parse error";
    case DisconnectReason::ForcedClose:
      return "forced close";
    case DisconnectReason::ServerShuttingDown:
      return "server shutting down";
    case DisconnectReason::ServerNamespaceDisconnect:
      return "server namespace disconnect";
    case DisconnectReason::ClientNamespaceDisconnect:
      return "client namespace disconnect";
    case DisconnectReason::ForcedServerClose:
      return "forced server close";
    case DisconnectReason::TokenExpired:
      return "token expired";
    case DisconnectReason::RateLimited:
      return "rate limited";
  }
  return "unknown";
}

bool is_recoverable(DisconnectReason reason) {
  switch (reason) {
    case DisconnectReason::TransportError:
    case DisconnectReason::TransportClose:
    case DisconnectReason::ForcedClose:
    case DisconnectReason::PingTimeout:
    case DisconnectReason::ServerShuttingDown:
    case DisconnectReason::ForcedServerClose:
      return true;
    default:
      return false;
  }
}

DisconnectReason from_close_reason(engineio::CloseReason reason) {
  switch (reason) {
    case engineio::CloseReason::TransportClose:
      return DisconnectReason::TransportClose;
    case engineio::CloseReason::TransportError:
      return DisconnectReason::TransportError;
    case engineio::CloseReason::PingTimeout:
      return DisconnectReason::PingTimeout;
    case engineio::CloseReason::ParseError:
      return DisconnectReason::ParseError;
    case engineio::CloseReason::ForcedClose:
      return DisconnectReason::ForcedClose;
    case engineio::CloseReason::ServerShuttingDown:
      return DisconnectReason::ServerShuttingDown;
  }
  return DisconnectReason::TransportClose;
}

}  // namespace daheim::socketio
