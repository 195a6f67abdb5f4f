// Per-connection (WebSocket) / per-transaction (HTTP) state that libwebsockets
// allocates zeroed for us (its "per-session data", `pss` in the callbacks).
// lws frees it without running destructors: every member is valid as all
// zero bytes and trivially destructible, and the one heap member is an
// LwsHeldString.
#pragma once

#include <cstdint>
#include <string>
#include <type_traits>

namespace daheim::transport {

struct SessionEntry;
struct ForwardedPoll;
struct CarriedSocket;

// The owner of a heap string kept in lws-allocated storage: all zero bytes are
// the empty state (no constructor needed), get() creates the string on first
// use, take() hands its contents over and release() frees it. The transport
// calls release() on every path after which lws may free the storage (body
// or message done, connection closed, protocol dropped); it is idempotent.
// The only new and delete of the per-connection paths.
class LwsHeldString {
 public:
  LwsHeldString() = default;
  LwsHeldString(const LwsHeldString&) = delete;
  LwsHeldString& operator=(const LwsHeldString&) = delete;

  explicit operator bool() const { return text_ != nullptr; }
  std::string& get() {
    if (!text_) text_ = new std::string();
    return *text_;
  }
  std::size_t size() const { return text_ ? text_->size() : 0; }
  std::string take() {
    std::string out = text_ ? std::move(*text_) : std::string();
    release();
    return out;
  }
  void release() {
    delete text_;
    text_ = nullptr;
  }

 private:
  std::string* text_;  // no initialiser: lws zero-fills the storage
};
static_assert(std::is_trivially_default_constructible_v<LwsHeldString> &&
              std::is_trivially_destructible_v<LwsHeldString>);

enum class Role : uint8_t {
  None = 0,
  PollHeld,       // a GET parked until the session has something to say
  Post,           // a POST whose body is being read for a session
  PostRejected,   // a POST to refuse once its body has been read
  WsPrimary,      // the session's WebSocket
  WsProbe,        // a WebSocket probing an upgrade from polling
  WsClosing,      // a WebSocket to close at the next chance
  RoutePost,      // a POST to a plain HTTP route whose body is being read
  PostForward,    // a POST for a session elsewhere whose body is being read
  Forwarded,      // a GET or POST waiting for the answer of the node holding its session
  WsCarried,      // a WebSocket carried to the node holding its session
  RouteHeld,      // a plain HTTP route request whose answer comes later
  HandshakeHeld,  // a polling handshake waiting for the handshake budget
  WsHeld,         // a new WebSocket waiting for the handshake budget (no session yet)
};

// Members of roles that are never live at the same time share storage: every
// access to one is gated by the role that owns it (`role` says which), and a
// role sets its member before reading it. lws allocates this per connection,
// so each byte counts 19,000 times over at 19,000 connections.
struct ConnectionState {
  Role role;
  bool rx_binary;
  int16_t pending_error;  // engineio::ErrorCode for PostRejected, -1: 400 without body
  uint16_t route;         // RoutePost: index of the route
  LwsHeldString buffer;   // POST body or WebSocket message being reassembled
  union {
    // PollHeld, WsPrimary, WsProbe; cleared when the entry goes. Read it
    // through session_entry() wherever the role is not known to be one of
    // these (after a WsHeld connection's handshake, or under WsCarried,
    // these bytes hold another role's member).
    SessionEntry* entry;
    uint64_t held_route;       // RouteHeld: the id in Server's held routes
    uint64_t held_handshake;   // HandshakeHeld, WsHeld: the id in the endpoint's held handshakes
    char sid[24];              // Post: the session to deliver the body to
    ForwardedPoll* forwarded;  // Forwarded: owned by the SessionForwarder
    CarriedSocket* carried;    // WsCarried: owned by the SessionForwarder
  };

  // The session entry of a role that has one, else null.
  SessionEntry* session_entry() const {
    bool has = role == Role::PollHeld || role == Role::WsPrimary || role == Role::WsProbe;
    return has ? entry : nullptr;
  }
};

static_assert(std::is_trivially_default_constructible_v<ConnectionState> &&
              std::is_trivially_destructible_v<ConnectionState>);
// 40 bytes: lws's block for it (malloc'd with its header) is a 48-byte chunk.
static_assert(sizeof(ConnectionState) <= 40, "lws allocates one per connection");

}  // namespace daheim::transport
