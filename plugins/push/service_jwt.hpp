// The push plugin's service JWT check (HMAC only): the token's parts, the
// algorithm allowed by the config, the signature, then exp / nbf with leeway,
// audience and issuer. Pure apart from OpenSSL, so tests/fuzz reaches it.
#pragma once

#include <daheim/json.hpp>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <array>
#include <cmath>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

namespace push {

inline bool base64url_decode(std::string_view in, std::string& out) {
  out.clear();
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return false;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xFF));
    }
  }
  return bits < 6;  // a lone trailing character is not valid base64
}

struct JwtConfig {
  std::string secret;
  std::string audience;
  std::string issuer;  // empty: not checked
  std::set<std::string> algorithms{"HS256"};
  int64_t leeway = 30;
};

inline const EVP_MD* hmac_digest(std::string_view alg) {
  if (alg == "HS256") return EVP_sha256();
  if (alg == "HS384") return EVP_sha384();
  if (alg == "HS512") return EVP_sha512();
  return nullptr;
}

// Empty when the token is valid at `now` (seconds since the epoch), else why not.
inline std::string verify_jwt(const JwtConfig& cfg, std::string_view token, int64_t now) {
  std::size_t d1 = token.find('.');
  std::size_t d2 = d1 == std::string_view::npos ? d1 : token.find('.', d1 + 1);
  if (d2 == std::string_view::npos || token.find('.', d2 + 1) != std::string_view::npos)
    return "not a JWT";
  std::string header_text, claims_text, sig;
  if (!base64url_decode(token.substr(0, d1), header_text) ||
      !base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), claims_text) ||
      !base64url_decode(token.substr(d2 + 1), sig))
    return "not a JWT";
  std::optional<dhl::Json> header = dhl::Json::parse(header_text);
  std::optional<dhl::Json> claims = dhl::Json::parse(claims_text);
  if (!header || !header->is_object() || !claims || !claims->is_object()) return "not a JWT";
  std::string alg(header->operator[]("alg").as_string());
  const EVP_MD* md = hmac_digest(alg);
  if (md == nullptr || !cfg.algorithms.count(alg)) return "algorithm not accepted";
  if (header->contains("crit")) return "unsupported critical header";

  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int mac_len = 0;
  std::string_view signing_input = token.substr(0, d2);
  if (HMAC(md, cfg.secret.data(), static_cast<int>(cfg.secret.size()),
           reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size(),
           mac.data(), &mac_len) == nullptr)
    return "signature check failed";
  if (sig.size() != mac_len || CRYPTO_memcmp(sig.data(), mac.data(), mac_len) != 0)
    return "bad signature";

  const dhl::Json& c = *claims;
  const dhl::Json* exp = c.find("exp");
  if (exp == nullptr || !exp->is_number()) return "no exp claim";
  // Compared as doubles: a claim such as 1e300 does not fit an int64_t (found by
  // tests/fuzz/push_token_fuzz: the cast was undefined behaviour).
  const auto leeway = static_cast<double>(cfg.leeway);
  const auto at = static_cast<double>(now);
  if (std::floor(exp->as_double()) + leeway <= at) return "expired";
  if (const dhl::Json* nbf = c.find("nbf")) {
    if (!nbf->is_number()) return "bad nbf claim";
    if (std::floor(nbf->as_double()) - leeway > at) return "not yet valid";
  }
  bool aud_ok = false;
  const dhl::Json& aud = c["aud"];
  if (aud.is_string()) aud_ok = aud.as_string() == cfg.audience;
  for (const dhl::Json& a : aud.items())
    aud_ok = aud_ok || (a.is_string() && a.as_string() == cfg.audience);
  if (!aud_ok) return "audience not accepted";
  if (!cfg.issuer.empty() && c["iss"].as_string() != cfg.issuer) return "issuer not accepted";
  return {};
}

}  // namespace push
