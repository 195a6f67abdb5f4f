// The request target of our own HTTP/1.1 handling, decoded into what the
// endpoint reads (the path and the query arguments) exactly as lws 4.1.6's
// header parser leaves them for read_request(): %-escapes decoded, '+' as a
// space and '&' or ';' as a separator where lws takes them so (not right
// after a '/' of the path), an encoded '=' in an argument's name as '_',
// "//", "/./" and "/../" folded in the path, empty arguments kept. So a
// request served here sees the HttpRequest the lws path would have built.
// Pure: no I/O and no lws.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/handler.hpp"

namespace daheim::transport::http1 {

enum class TargetVerdict : unsigned char {
  Ok,
  Forbidden,  // a bad %-escape: lws answers 403
  Broken      // a decoded NUL where lws fails the request, or more parts than lws keeps
};

struct TargetResult {
  TargetVerdict verdict = TargetVerdict::Ok;
  std::size_t fragments = 0;  // the parts lws stores for the target (it keeps ~90 in all)
};

// Decodes `target` (the request line's, as sent) into `path` (as
// lws_http_get_uri_and_method() gives it) and `query` (as read_query() splits
// lws's fragments). `max_arg` bounds one query argument as read_query() does
// (an argument longer than that ends the list). `path` and `query` are
// reused: their strings keep their capacity. Written only when Ok.
TargetResult decode_target(std::string_view target, std::size_t max_arg, std::string& path,
                           std::vector<engineio::Header>& query);

// decode_target() without its shortcut for the usual target: every target
// through the state machine (http1_fuzz checks that both give the same).
TargetResult decode_target_by_state_machine(std::string_view target, std::size_t max_arg,
                                            std::string& path,
                                            std::vector<engineio::Header>& query);

// The arguments of one query string as read_query() splits lws's fragments
// (at the first '='), reusing `query`'s strings: shared by both paths.
void split_argument(std::string_view arg, engineio::Header& into);

}  // namespace daheim::transport::http1
