// Internal: one JSON Web Key (RFC 7517, RFC 7518 §6, RFC 8037) to a Key.
#pragma once

#include <cJSON.h>

#include <optional>
#include <string>

#include "auth/key.hpp"

namespace daheim::auth {

enum class JwkResult { key, skipped, error };

// Public keys only: RSA (n, e), EC P-256/P-384 (crv, x, y), OKP Ed25519 (crv, x) and oct (k,
// an HMAC secret). The algorithm comes from `alg` when present, else from the key type: RSA ->
// RS256, EC P-256 -> ES256, EC P-384 -> ES384, OKP Ed25519 -> EdDSA, oct -> HS256. A key whose
// `use` is present and not "sig" is skipped. Anything else unusable is an error.
JwkResult key_from_jwk(const cJSON* jwk, std::optional<Key>& key, std::string& error);

}  // namespace daheim::auth
