// CORS response headers from config (origin list or "*", credentials).
#pragma once

#include <string>
#include <vector>

#include "engineio/handler.hpp"

namespace daheim::transport {

struct CorsOptions {
  bool enabled = false;
  bool any_origin = false;           // "origin": "*"
  std::vector<std::string> origins;  // exact origins otherwise
  bool credentials = false;
};

// Headers for a normal response to a request with this Origin (may be null).
void add_cors_headers(const CorsOptions& cors, const std::string* origin,
                      std::vector<engineio::Header>& out);

// Headers for an OPTIONS preflight (answered 204).
void add_preflight_headers(const CorsOptions& cors, const std::string* origin,
                           const std::string* request_headers, std::vector<engineio::Header>& out);

}  // namespace daheim::transport
