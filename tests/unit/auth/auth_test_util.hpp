// Helpers for the auth unit tests: hand-made HMAC tokens and result inspection.
#pragma once

#include <openssl/evp.h>

#include <string>
#include <string_view>
#include <variant>

#include "auth/auth_error.hpp"
#include "auth/base64url.hpp"
#include "auth/user.hpp"

namespace daheim::auth::test {

// 32 bytes: the shortest secret HS256 accepts.
inline constexpr std::string_view kSecret = "0123456789abcdef0123456789abcdef";

// A token with exactly this header and payload text, HMAC-signed with `digest` ("SHA256", ...).
inline std::string hmac_token(std::string_view header_json, std::string_view payload_json,
                              std::string_view secret = kSecret, const char* digest = "SHA256") {
  std::string input = base64url_encode(header_json) + "." + base64url_encode(payload_json);
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, digest, nullptr, secret.data(), secret.size(),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac,
            &len);
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), len));
}

// "ok" or the error code, for readable assertions.
inline std::string outcome(const std::variant<User, AuthError>& result) {
  if (const auto* e = std::get_if<AuthError>(&result)) return std::string(code(*e));
  return "ok";
}

}  // namespace daheim::auth::test
