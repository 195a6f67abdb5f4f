#include "transport/cors.hpp"

#include <algorithm>

namespace daheim::transport {

void add_cors_headers(const CorsOptions& cors, const std::string* origin,
                      std::vector<engineio::Header>& out) {
  if (!cors.enabled) return;
  if (cors.any_origin && !cors.credentials) {
    out.emplace_back("access-control-allow-origin", "*");
  } else {
    bool allowed = origin && (cors.any_origin || std::find(cors.origins.begin(), cors.origins.end(),
                                                           *origin) != cors.origins.end());
    if (allowed) out.emplace_back("access-control-allow-origin", *origin);
    out.emplace_back("vary", "Origin");
  }
  if (cors.credentials) out.emplace_back("access-control-allow-credentials", "true");
}

void add_preflight_headers(const CorsOptions& cors, const std::string* origin,
                           const std::string* request_headers, std::vector<engineio::Header>& out) {
  add_cors_headers(cors, origin, out);
  out.emplace_back("access-control-allow-methods", "GET,HEAD,PUT,PATCH,POST,DELETE");
  if (request_headers) {
    out.emplace_back("access-control-allow-headers", *request_headers);
    out.emplace_back("vary", "Access-Control-Request-Headers");
  }
}

}  // namespace daheim::transport
