#include "engineio/request.hpp"

namespace daheim::engineio {
namespace {

// The reference rejects header values with characters outside
// [\t\x20-\x7e\x80-\xff].
bool has_invalid_header_char(const std::string& value) {
  for (unsigned char c : value)
    if (c != '\t' && (c < 0x20 || c == 0x7f)) return true;
  return false;
}

bool transport_enabled(const std::string* t, const TransportsEnabled& enabled) {
  if (!t) return false;
  if (*t == "polling") return enabled.polling;
  if (*t == "websocket") return enabled.websocket;
  return false;
}

}  // namespace

std::string_view error_message(ErrorCode code) {
  switch (code) {
    case ErrorCode::UnknownTransport:
      return "Transport unknown";
    case ErrorCode::UnknownSid:
      return "Session ID unknown";
    case ErrorCode::BadHandshakeMethod:
      return "Bad handshake method";
    case ErrorCode::BadRequest:
      return "Bad request";
    case ErrorCode::Forbidden:
      return "Forbidden";
    case ErrorCode::UnsupportedProtocolVersion:
      return "Unsupported protocol version";
  }
  return "Bad request";
}

int error_status(ErrorCode code) {
  return code == ErrorCode::Forbidden ? 403 : 400;
}

std::string error_body(ErrorCode code) {
  std::string body = "{\"code\":";
  body += std::to_string(static_cast<int>(code));
  body += ",\"message\":\"";
  body += error_message(code);
  body += "\"}";
  return body;
}

std::optional<ErrorCode> verify_request(const RequestInfo& req, const TransportsEnabled& enabled,
                                        const SessionLookup& lookup) {
  if (!transport_enabled(req.transport, enabled)) return ErrorCode::UnknownTransport;
  if (req.origin && has_invalid_header_char(*req.origin)) return ErrorCode::BadRequest;
  bool ws = *req.transport == "websocket";
  if (req.sid) {
    if (!lookup.known) return ErrorCode::UnknownSid;
    if (!req.websocket_upgrade && lookup.websocket != ws) return ErrorCode::BadRequest;
    return std::nullopt;
  }
  if (req.method != Method::Get) return ErrorCode::BadHandshakeMethod;
  if (ws && !req.websocket_upgrade) return ErrorCode::BadRequest;
  if (!req.eio || (*req.eio != "4" && !(enabled.eio3 && *req.eio == "3")))
    return ErrorCode::UnsupportedProtocolVersion;
  return std::nullopt;
}

}  // namespace daheim::engineio
