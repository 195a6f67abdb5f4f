// The JWS algorithms we verify (RFC 7518 §3, RFC 8037 for EdDSA with Ed25519 only).
#pragma once

#include <optional>
#include <string_view>

namespace daheim::auth {

enum class Algorithm {
  HS256,
  HS384,
  HS512,
  RS256,
  RS384,
  RS512,
  PS256,
  PS384,
  PS512,
  ES256,
  ES384,
  EdDSA,
};

// The JOSE name ("HS256", ..., "EdDSA").
std::string_view name(Algorithm alg);
// Exact, case-sensitive match of a JOSE name. "none" and anything unsupported give nullopt.
std::optional<Algorithm> parse_algorithm(std::string_view name);
bool is_hmac(Algorithm alg);

}  // namespace daheim::auth
