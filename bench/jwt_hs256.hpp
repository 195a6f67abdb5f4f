// HS256 JSON Web Tokens for the load generator's Daheim users: the same
// tokens `daheim-live token` makes (sub, role, aud, iat, exp), signed with the
// server's development or configured secret.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <ctime>
#include <string>
#include <string_view>

namespace loadgen {

inline std::string base64url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  out.reserve((in.size() + 2) / 3 * 4);
  std::size_t i = 0;
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(in[k]); };
  for (; i + 2 < in.size(); i += 3) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    for (int s = 18; s >= 0; s -= 6) out += kAlphabet[(v >> s) & 63];
  }
  if (i + 1 == in.size()) {
    unsigned v = byte(i) << 16;
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
  } else if (i + 2 == in.size()) {
    unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
    out += kAlphabet[(v >> 18) & 63];
    out += kAlphabet[(v >> 12) & 63];
    out += kAlphabet[(v >> 6) & 63];
  }
  return out;
}

// A token for user `sub` with `role` (claim `role_claim`), audience `aud`
// (none when empty), valid `ttl_s` seconds from now.
inline std::string hs256_token(std::string_view secret, const std::string& sub,
                               const std::string& role_claim, const std::string& role,
                               const std::string& aud, long ttl_s) {
  long now = static_cast<long>(std::time(nullptr));
  std::string claims = "{\"sub\":\"" + sub + "\",\"" + role_claim + "\":\"" + role + "\"";
  if (!aud.empty()) claims += ",\"aud\":\"" + aud + "\"";
  claims += ",\"iat\":" + std::to_string(now) + ",\"exp\":" + std::to_string(now + ttl_s) + "}";
  std::string input = base64url(R"({"alg":"HS256","typ":"JWT"})") + "." + base64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned mac_len = 0;
  HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &mac_len);
  return input + "." + base64url(std::string_view(reinterpret_cast<char*>(mac), mac_len));
}

}  // namespace loadgen
