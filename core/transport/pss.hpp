// Per-connection (WebSocket) / per-transaction (HTTP) state that libwebsockets
// allocates zeroed for us. Plain data only: lws frees it without destructors,
// so heap members are released explicitly on drop and close.
#pragma once

#include <cstdint>
#include <string>

namespace daheim::transport {

struct SessionEntry;

enum class Role : uint8_t {
  None = 0,
  PollHeld,      // a GET parked until the session has something to say
  Post,          // a POST whose body is being read for a session
  PostRejected,  // a POST to refuse once its body has been read
  WsPrimary,     // the session's WebSocket
  WsProbe,       // a WebSocket probing an upgrade from polling
  WsDoomed,      // a WebSocket to close at the next chance
  RoutePost,     // a POST to a plain HTTP route whose body is being read
};

struct Pss {
  Role role;
  bool rx_binary;
  int16_t pending_error;  // engineio::ErrorCode for PostRejected, -1: 400 without body
  uint16_t route;         // RoutePost: index of the route
  SessionEntry* entry;    // WebSocket roles and PollHeld; cleared when the entry goes
  std::string* buffer;    // POST body or WebSocket message being reassembled
  char sid[24];           // POST: the session to deliver the body to
};

}  // namespace daheim::transport
