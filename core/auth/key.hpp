// One verification key with the algorithm pinned to it. The token header's `alg` only selects
// among keys; it never changes how a key is used.
#pragma once

#include <openssl/types.h>

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "auth/algorithm.hpp"

namespace daheim::auth {

class Key {
 public:
  // An HMAC secret (the raw bytes). `alg` must be HS256/384/512 and the secret at least as long
  // as the hash output (RFC 7518 §3.2: 32, 48 or 64 bytes).
  static std::optional<Key> from_secret(std::string_view secret, Algorithm alg, std::string kid,
                                        std::string& error);
  // A PEM public key ("BEGIN PUBLIC KEY", "BEGIN RSA PUBLIC KEY") or certificate ("BEGIN
  // CERTIFICATE"). Private keys are refused. The key type must fit `alg`.
  static std::optional<Key> from_pem(std::string_view pem, Algorithm alg, std::string kid,
                                     std::string& error);
  // Takes ownership of `pkey` (also on failure). Checks that the key type fits `alg`: RSA (at
  // least 2048 bits) for RS*/PS* (RSA-PSS keys for PS* only), EC P-256 for ES256, P-384 for
  // ES384, Ed25519 for EdDSA; and runs OpenSSL's public key check.
  static std::optional<Key> from_pkey(EVP_PKEY* pkey, Algorithm alg, std::string kid,
                                      std::string& error);

  Algorithm alg() const { return alg_; }
  const std::string& kid() const { return kid_; }

  // Checks a JWS signature (as decoded from base64url) over `signing_input` with the pinned
  // algorithm. Constant-time for HMAC. Never throws; clears OpenSSL's error queue on failure.
  bool verify(std::string_view signing_input, std::string_view signature) const;

 private:
  struct Secret;
  Key(Algorithm alg, std::string kid) : alg_(alg), kid_(std::move(kid)) {}

  Algorithm alg_;
  std::string kid_;
  std::shared_ptr<const Secret> secret_;  // HMAC keys
  std::shared_ptr<EVP_PKEY> pkey_;        // all others
};

}  // namespace daheim::auth
