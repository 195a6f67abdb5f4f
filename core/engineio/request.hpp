// Verification of an incoming Engine.IO HTTP request, in the reference's
// order (transport, Origin, sid, handshake method, websocket without upgrade,
// protocol version), and the reference's error codes 0-5.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace daheim::engineio {

enum class ErrorCode : int {
  UnknownTransport = 0,
  UnknownSid = 1,
  BadHandshakeMethod = 2,
  BadRequest = 3,
  Forbidden = 4,
  UnsupportedProtocolVersion = 5,
};

std::string_view error_message(ErrorCode code);
// 403 for Forbidden, 400 otherwise.
int error_status(ErrorCode code);
// {"code":N,"message":"..."}
std::string error_body(ErrorCode code);

enum class Method { Get, Post, Options, Other };

struct RequestInfo {
  Method method = Method::Get;
  const std::string* eio = nullptr;
  const std::string* transport = nullptr;
  const std::string* sid = nullptr;
  const std::string* origin = nullptr;
  bool websocket_upgrade = false;  // an Upgrade: websocket request
};

struct SessionLookup {
  bool known = false;
  bool websocket = false;  // the session's current transport is websocket
};

struct TransportsEnabled {
  bool polling = true;
  bool websocket = true;
  bool eio3 = false;  // EIO=3 handshakes (allowEIO3)
};

// Returns the error to answer with, or nullopt when the request may proceed.
// `lookup` describes the session named by `sid` (ignored without a sid).
std::optional<ErrorCode> verify_request(const RequestInfo& req, const TransportsEnabled& enabled,
                                        const SessionLookup& lookup);

}  // namespace daheim::engineio
