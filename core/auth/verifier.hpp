// JWS compact-serialisation JWT verification (RFC 7515, 7519) against a KeyStore.
//
// Checks in order; the first failure decides the error:
//   1. empty token                                                       missing_token
//   2. longer than max_token_size; not exactly three '.'-separated parts; an empty header or
//      claims part; a part that is not strict base64url; a header that is not one JSON object
//      (UTF-8, depth-limited, no duplicate members) with a string `alg`; a non-string `kid`;
//      any `crit` member                                                  malformed
//   3. header alg unknown, unsupported or "none" (any case)              algorithm_not_allowed
//   4. header has a kid:  no key has it                                   unknown_key
//                         that key is pinned to another alg               algorithm_not_allowed
//      no kid:            the store is empty                              unknown_key
//                         no key is pinned to the header alg              algorithm_not_allowed
//   5. the signature verifies with none of the selected keys (by kid: that one key; without:
//      every key pinned to the header alg, for rotation)                 invalid_signature
//   6. claims not one JSON object (same limits as the header); exp, nbf or iat present but
//      not a number; max_age_s set and no iat                            malformed
//   7. now >= exp + leeway                                                token_expired
//      nbf > now + leeway, or iat > now + leeway                          token_not_yet_valid
//      now >= iat + max_age_s + leeway                                    token_expired
//   8. issuers configured and iss missing or not one of them              invalid_issuer
//   9. audiences configured and no aud entry is one of them               invalid_audience
//  10. no user id (see VerifyOptions::user_id_claims)                     malformed
// Header members `jwk`, `jku`, `x5u`, `x5c` are ignored: keys come only from the KeyStore.
#pragma once

#include <cstdint>
#include <memory>
#include <string_view>
#include <variant>

#include "auth/auth_error.hpp"
#include "auth/key_store.hpp"
#include "auth/user.hpp"
#include "auth/verify_options.hpp"

namespace daheim::auth {

class Verifier {
 public:
  Verifier(std::shared_ptr<const KeyStore> keys, VerifyOptions options);

  // Never throws (except std::bad_alloc). `now_unix` is the current time in Unix seconds.
  std::variant<User, AuthError> verify(std::string_view token, int64_t now_unix) const;

  // Swaps the keys (SIGHUP reload); users already verified are unaffected. Not synchronised:
  // call it on the thread that calls verify() (the event loop). A null store refuses all tokens.
  void set_keys(std::shared_ptr<const KeyStore> keys) { keys_ = std::move(keys); }
  const std::shared_ptr<const KeyStore>& keys() const { return keys_; }
  const VerifyOptions& options() const { return options_; }

 private:
  std::shared_ptr<const KeyStore> keys_;
  VerifyOptions options_;
};

}  // namespace daheim::auth
