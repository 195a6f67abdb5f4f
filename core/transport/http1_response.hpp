// An HTTP/1.1 response head and body in one buffer, byte for byte what
// send_response() has libwebsockets 4.1.6 write for an HTTP/1.1 request
// (status line, content-type when given, content-length, the extra headers,
// `connection: close` when the connection ends), so that a client cannot tell
// our own HTTP/1.1 handling from lws's. Pure.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "engineio/handler.hpp"

namespace daheim::transport::http1 {

// lws's reason phrase for `status` ("OK", "Bad Request", ...).
std::string_view reason_phrase(unsigned status);

// Replaces `out` with the response (its capacity is reused): HTTP/1.`minor`,
// and `connection: close` when `say_close`.
void format_response(std::string& out, int minor, unsigned status, std::string_view content_type,
                     std::string_view body, const std::vector<engineio::Header>& extra,
                     bool say_close);

}  // namespace daheim::transport::http1
