// An HTTP/1.1 request head parsed once, in place: every field is a view into
// the connection's read buffer (no allocation). Pure: no I/O and no lws.
// It serves the Engine.IO long-polling path of our own HTTP/1.1 handling
// (http1_connection); whatever it does not accept is handed to lws with the
// bytes read, so its errors say why it did not, and lws answers the client.
#pragma once

#include <array>
#include <cstddef>
#include <string_view>

#include "engineio/request.hpp"

namespace daheim::transport::http1 {

enum class ParseError : unsigned char {
  None,
  HeadTooLarge,     // no end of the head within the limit
  BadRequestLine,   // not "METHOD SP target SP HTTP/1.x CRLF"
  BadVersion,       // not HTTP/1.0 or HTTP/1.1
  BadHeader,        // a line without a colon, whitespace before it, a bare LF, obs-fold
  TooManyHeaders,   // more than Request::kMaxHeaders
  BadContentLength  // not digits only, repeated with another value, or too large
};

std::string_view to_string(ParseError e);

struct Header {
  std::string_view name;   // as sent (compare without case)
  std::string_view value;  // without surrounding spaces and tabs
};

struct Request {
  static constexpr std::size_t kMaxHeaders = 64;

  engineio::Method method = engineio::Method::Other;
  std::string_view method_name;
  std::string_view target;  // path and query as sent
  std::string_view path;
  std::string_view query;     // after '?', without it
  int minor = 1;              // HTTP/1.minor
  std::size_t head_size = 0;  // bytes up to and including the empty line
  bool has_length = false;
  std::size_t content_length = 0;
  bool transfer_encoding = false;  // any Transfer-Encoding (chunked or not)
  bool close = false;              // the connection ends after the answer
  bool close_asked = false;        // Connection: close (the answer says it too)
  bool keep_alive_asked = false;   // Connection: keep-alive
  bool upgrade = false;            // an Upgrade header, or Connection: upgrade
  std::array<Header, kMaxHeaders> headers{};
  std::size_t header_count = 0;

  // The first header named `lower` (lower-case), or null.
  const std::string_view* header(std::string_view lower) const;
  // Whether the request keeps its connection open after the answer.
  bool keep_alive() const { return !close; }
};

// Where the head in `buf` ends (one past its empty line: CRLF CRLF, or a
// bare LF where a CRLF belongs), searching from `from` (where the last
// search stopped: bytes are looked at once); 0 while it is incomplete. `from`
// is updated.
std::size_t find_head_end(std::string_view buf, std::size_t& from);

// Parses the head `buf[0, head_end)` (head_end from find_head_end) into
// `out`. A Content-Length above the caller's limit is a valid request here
// (the caller answers 413); only one above 2^40 is BadContentLength.
ParseError parse_head(std::string_view buf, std::size_t head_end, Request& out);

// Case-insensitive comparison with a lower-case literal.
bool equals_lower(std::string_view text, std::string_view lower);
// Whether a comma-separated header value lists `lower` as a token.
bool has_token(std::string_view value, std::string_view lower);

}  // namespace daheim::transport::http1
