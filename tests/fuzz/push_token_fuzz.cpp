// libFuzzer target for the push plugin's service credential check (plugins/push/service_jwt.hpp):
// the HMAC service JWT as `Authorization: Bearer <token>` carries it.
//
// The first input byte picks what the rest is:
//   0  a whole token;
//   1  claims JSON, signed here (HS256) so the claim checks are reached;
//   2  "header\nclaims", signed here with the algorithm the header names when it is an HMAC one
//      (HS256 otherwise), so header handling past the signature is reached.
// Checked: a token signed here is never refused for its signature unless its header names
// another algorithm; an accepted token has three parts, an allowed alg and a future exp.
//
// Run: ./scripts/fuzz.sh SECONDS, or see meson.build.
#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "service_jwt.hpp"

namespace {

constexpr int64_t kNow = 1700000000;
constexpr std::string_view kSecret = "push-fuzz-secret-0123456789abcdef";

const push::JwtConfig& config() {
  static const push::JwtConfig c = [] {
    push::JwtConfig out;
    out.secret = std::string(kSecret);
    out.audience = "push";
    out.issuer = "daheim-api";
    out.algorithms = {"HS256", "HS384"};
    return out;
  }();
  return c;
}

std::string b64url(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += kAlphabet[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 63];
  return out;
}

std::string signed_token(std::string_view header, std::string_view claims, const EVP_MD* md) {
  std::string input = b64url(header) + "." + b64url(claims);
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, kSecret.data(), static_cast<int>(kSecret.size()),
       reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, &len);
  return input + "." + b64url(std::string_view(reinterpret_cast<char*>(mac), len));
}

void check_accepted(std::string_view token) {
  std::string header, claims;
  auto d1 = token.find('.');
  auto d2 = token.find('.', d1 + 1);
  if (!push::base64url_decode(token.substr(0, d1), header) ||
      !push::base64url_decode(token.substr(d1 + 1, d2 - d1 - 1), claims))
    std::abort();
  auto h = dhl::Json::parse(header);
  auto c = dhl::Json::parse(claims);
  if (!h || !c || !config().algorithms.count(std::string((*h)["alg"].as_string()))) std::abort();
  const dhl::Json* exp = c->find("exp");
  if (!exp || exp->as_double() + static_cast<double>(config().leeway) + 1 <= kNow) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  std::string token;
  bool signed_here = true;
  switch (data[0] % 3) {
    case 0:
      token = std::string(rest);
      signed_here = false;
      break;
    case 1:
      token = signed_token(R"({"alg":"HS256","typ":"JWT"})", rest, EVP_sha256());
      break;
    default: {
      std::size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) return 0;
      std::string_view header = rest.substr(0, nl);
      const EVP_MD* md = EVP_sha256();
      if (auto h = dhl::Json::parse(header); h && h->is_object())
        if (const EVP_MD* named = push::hmac_digest((*h)["alg"].as_string())) md = named;
      token = signed_token(header, rest.substr(nl + 1), md);
    }
  }
  std::string why = push::verify_jwt(config(), token, kNow);
  if (why.empty()) check_accepted(token);
  if (signed_here && why == "bad signature") std::abort();
  return 0;
}
