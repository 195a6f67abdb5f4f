// Small libwebsockets HTTP helpers: reading the request line, query and
// headers, and writing a complete response in one go.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/handler.hpp"
#include "engineio/header_filter.hpp"
#include "engineio/request.hpp"

struct lws;

namespace daheim::transport {

struct HttpRequest {
  engineio::Method method = engineio::Method::Other;
  std::string path;
  std::vector<engineio::Header> query;
  std::optional<std::string> origin;

  const std::string* query_param(std::string_view name) const;
};

// `max_arg` bounds one query argument (the header space).
HttpRequest read_request(lws* wsi, std::size_t max_arg);
// The same into `into`, reusing its strings and vector: no allocation once
// `into` has held a request of the same shape (the polling path's steady
// state). Every field is rewritten; nothing of the previous request stays.
void read_request(lws* wsi, std::size_t max_arg, HttpRequest& into);
// Every known request header `keep` keeps, lower-case names without the colon.
engineio::HeaderList read_headers(lws* wsi, const engineio::HeaderFilter& keep);
std::optional<std::string> read_header(lws* wsi, int token);
// Whether the header is present and equal to `value` (no copy on the heap).
bool header_equals(lws* wsi, int token, std::string_view value);
// A request header by lower-case name (known to lws or custom).
std::optional<std::string> read_header_named(lws* wsi, std::string_view lower_name);
std::string peer_address(lws* wsi);

// The one Content-Length rule of every HTTP path (Engine.IO POSTs and plain
// routes): the body is Content-Length bytes, digits only (an empty or
// non-numeric value counts as absent); no length and no Transfer-Encoding
// means no body; a chunked body (Transfer-Encoding without a length) is
// refused with 411; a length above `max_body` with 413.
enum class BodyLength { Ok, TooLarge, LengthRequired };
BodyLength request_body_length(lws* wsi, std::size_t max_body, std::size_t& length);
std::string request_url(const HttpRequest& req);

// Writes status, headers and body with LWS_WRITE_HTTP_FINAL. Returns the
// value the lws callback must return (0 keep-alive, -1 close). The response
// is built in one buffer kept per thread: no allocation once it is as large
// as the largest answer so far.
int send_response(lws* wsi, unsigned status, std::string_view content_type, std::string_view body,
                  const std::vector<engineio::Header>& extra, bool close_after = false);

}  // namespace daheim::transport
