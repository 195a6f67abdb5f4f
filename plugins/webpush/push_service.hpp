// One HTTPS POST to a push service (RFC 8030 §5), blocking: run it on a
// worker thread, never on the loop.
#pragma once

#include "bytes.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace webpush {

struct HttpOptions {
  long timeout_ms = 10000;
  long connect_timeout_ms = 5000;
  std::string ca_file;      // empty: the system's trust store
  bool allow_http = false;  // plain http endpoints (development only)
};

struct PushRequest {
  std::string endpoint;
  std::vector<std::string> headers;  // "Name: value"
  Bytes body;
};

struct PushResponse {
  long status = 0;                       // 0: no HTTP answer (see error)
  std::optional<int64_t> retry_after_s;  // Retry-After in seconds, if sent
  std::string error;                     // the transport's error, when status is 0
};

// Once per process, before any post() (not thread-safe), and its undoing.
bool http_global_init();
void http_global_cleanup();

PushResponse post(const PushRequest& request, const HttpOptions& options);

}  // namespace webpush
