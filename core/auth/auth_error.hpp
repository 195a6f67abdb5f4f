// Why a token was refused. Closed set; code() gives the wire string sent to the client.
#pragma once

#include <string_view>

namespace daheim::auth {

enum class AuthError {
  missing_token,          // no token, or an empty one
  malformed,              // not three base64url parts, bad JSON, wrong claim types, too large
  algorithm_not_allowed,  // header alg unsupported or `none`, or not the alg pinned by the key
  unknown_key,            // no key with the header's `kid`, or no keys at all
  invalid_signature,      // the signature does not verify with the selected key(s)
  token_expired,          // `exp` (plus leeway) has passed, or older than the maximum age
  token_not_yet_valid,    // `nbf` or `iat` lies in the future (beyond the leeway)
  invalid_issuer,         // `iss` missing or not one of the accepted issuers
  invalid_audience,       // no `aud` entry is one of the accepted audiences
};

std::string_view code(AuthError error);

}  // namespace daheim::auth
