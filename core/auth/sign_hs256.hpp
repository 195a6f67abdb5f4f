// Mints HS256 tokens (development tokens: `daheim-live token --sub alice --role student`).
#pragma once

#include <string>
#include <string_view>

namespace daheim::auth {

// Header {"alg":"HS256","typ":"JWT"} plus "kid" when given; `claims_json` is used verbatim as
// the payload (the caller makes it a JSON object). Returns an empty string if OpenSSL fails.
std::string sign_hs256(std::string_view secret, std::string_view claims_json,
                       std::string_view kid = {});

}  // namespace daheim::auth
