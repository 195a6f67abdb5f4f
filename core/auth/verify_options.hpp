// Claim rules for Verifier. Times are Unix seconds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace daheim::auth {

struct VerifyOptions {
  // Accepted `iss` values; empty: `iss` is not checked. Otherwise it must be present and equal.
  std::vector<std::string> issuers;
  // Accepted audiences; empty: `aud` is not checked. Otherwise `aud` (a string or an array of
  // strings) must contain at least one of them.
  std::vector<std::string> audiences;
  // Clock skew allowed on exp, nbf, iat and the maximum age (negative counts as 0). As in the
  // npm `jsonwebtoken`: expired when now >= exp + leeway; not yet valid when nbf > now + leeway.
  int64_t leeway_s = 30;
  // When set, `iat` is required and the token is expired once now >= iat + max_age + leeway.
  std::optional<int64_t> max_age_s;
  // The user id is the first of these claims that is a non-empty string or an integer.
  std::vector<std::string> user_id_claims{"sub", "id"};
  // A string claim; absent or not a string gives an empty role.
  std::string role_claim = "role";
  // Longer tokens are refused (malformed) before any decoding.
  std::size_t max_token_size = 8192;
  // Deeper JSON nesting in the header or the claims is refused (malformed).
  int max_json_depth = 32;
};

}  // namespace daheim::auth
