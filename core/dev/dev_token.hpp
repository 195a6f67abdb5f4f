// `daheim-live token`: a development token signed with auth.devSecret that
// passes the configured checks (first issuer, first audience).
#pragma once

#include <optional>
#include <string>

#include "auth_middleware/auth_config.hpp"

namespace daheim::dev {

struct TokenClaims {
  std::string sub;
  std::optional<std::string> role;  // in the configured role claim
  long long ttl_s = 3600;
  std::string kid;  // empty: none
};

// Returns the token, or an empty string and `error` (config problem).
std::string make_dev_token(const auth_middleware::AuthConfig& auth, const TokenClaims& claims,
                           std::string& error);

}  // namespace daheim::dev
