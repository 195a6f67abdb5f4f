// The host API's verify_token: the server checks a token for a plugin with
// its own keys and claim rules (the auth middleware provides the verifier).
#pragma once

#include <functional>
#include <string>
#include <string_view>

namespace daheim::plugin {

struct TokenCheck {
  bool ok = false;
  std::string claims_json;  // ok: the token's claims (JSON object text)
  std::string_view error;   // not ok: an auth error code (static text)
};

// Verifies `token` with the server's keys and claim rules; a non-empty
// `audience` replaces the configured audiences.
using TokenVerifier = std::function<TokenCheck(std::string_view token, std::string_view audience)>;

}  // namespace daheim::plugin
