// VAPID (RFC 8292): the application server identifies itself to a push
// service with an ES256 JWT for the endpoint's origin and its public key:
//   Authorization: vapid t=<JWT>, k=<public key, base64url>
#pragma once

#include "ec_key.hpp"

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace webpush {

// "https://host[:port]" of an endpoint URL (the JWT's audience), or empty
// when `url` is not an absolute http(s) URL.
std::string origin_of(std::string_view url);

class Vapid {
 public:
  // `subject`: a "mailto:" or "https:" contact for the push service.
  Vapid(EcKey key, std::string subject);

  // The public key, base64url: the application server key the browser's
  // pushManager.subscribe() needs, and `k=` of the header.
  const std::string& public_key() const { return public_key_; }
  const std::string& subject() const { return subject_; }

  // A signed JWT {"aud": audience, "exp": exp, "sub": subject}; nullopt when
  // signing fails.
  std::optional<std::string> token(std::string_view audience, int64_t exp) const;
  // The Authorization header's value for `endpoint`, valid until `exp`.
  std::optional<std::string> authorization(std::string_view endpoint, int64_t exp) const;

 private:
  EcKey key_;
  std::string subject_;
  std::string public_key_;
};

// ECDSA P-256 with SHA-256 over `data`, as JWS wants it (r || s, 64 bytes).
std::optional<Bytes> es256_sign(const EcKey& key, std::string_view data);

}  // namespace webpush
