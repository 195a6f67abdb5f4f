// libFuzzer target for the JWT parser and verifier (core/auth).
//
// The first input byte picks what the rest is:
//   0  a whole token, verified against a store holding HS256, ES256 and EdDSA keys;
//   1  claims JSON, signed here with the HS256 secret so the claim parser is reached;
//   2  "header\npayload", HMAC-signed here so header handling past the signature is reached;
//   3  a JWKS document loaded into a fresh KeyStore, then a fixed token verified against it.
// Each input is also checked to be a base64url fixed point: decode(x) ok => encode(decode(x)) == x.
//
// Run: jwt_fuzz -max_total_time=20 CORPUS_DIR tests/fuzz/corpus/jwt_fuzz  (see meson.build)
#include <openssl/evp.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "auth/base64url.hpp"
#include "auth/key_store.hpp"
#include "auth/sign_hs256.hpp"
#include "auth/verifier.hpp"

namespace {

using namespace daheim::auth;

constexpr std::string_view kSecret = "fuzz-secret-0123456789abcdef0123";
constexpr int64_t kNow = 1700000000;

struct Setup {
  std::shared_ptr<const KeyStore> store;
  VerifyOptions options;
  std::string fixed_token;
};

const Setup& setup() {
  static const Setup s = [] {
    Setup out;
    KeyStore store;
    std::string error;
    if (!store.add(*Key::from_secret(kSecret, Algorithm::HS256, "", error), error)) std::abort();
    EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    EVP_PKEY* ed = EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519");
    if (!store.add(*Key::from_pkey(ec, Algorithm::ES256, "ec", error), error)) std::abort();
    if (!store.add(*Key::from_pkey(ed, Algorithm::EdDSA, "ed", error), error)) std::abort();
    out.store = std::make_shared<const KeyStore>(std::move(store));
    out.options.issuers = {"https://api.daheim.test"};
    out.options.audiences = {"daheim-live"};
    out.options.max_age_s = 3600;
    out.fixed_token = sign_hs256(
        kSecret,
        R"({"sub":"alice","iss":"https://api.daheim.test","aud":"daheim-live","iat":1700000000})",
        "k");
    return out;
  }();
  return s;
}

std::string hmac_token(std::string_view header, std::string_view payload) {
  std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t len = 0;
  EVP_Q_mac(nullptr, "HMAC", nullptr, "SHA256", nullptr, kSecret.data(), kSecret.size(),
            reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac,
            &len);
  return input + "." + base64url_encode(std::string_view(reinterpret_cast<char*>(mac), len));
}

void check(const std::variant<User, AuthError>& result) {
  if (const auto* user = std::get_if<User>(&result)) {
    if (user->id.empty()) std::abort();  // a verified user always has an id
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const Setup& s = setup();
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);

  if (auto decoded = base64url_decode(rest)) {
    if (base64url_encode(*decoded) != rest) std::abort();
  }

  Verifier verifier(s.store, s.options);
  switch (data[0] % 4) {
    case 0:
      check(verifier.verify(rest, kNow));
      break;
    case 1:
      check(verifier.verify(sign_hs256(kSecret, rest), kNow));
      break;
    case 2: {
      std::size_t nl = rest.find('\n');
      if (nl == std::string_view::npos) break;
      check(verifier.verify(hmac_token(rest.substr(0, nl), rest.substr(nl + 1)), kNow));
      break;
    }
    default: {
      KeyStore store;
      std::string error;
      if (store.add_jwks(rest, "fuzz", error)) {
        Verifier v(std::make_shared<const KeyStore>(std::move(store)), s.options);
        check(v.verify(s.fixed_token, kNow));
      } else if (error.empty()) {
        std::abort();  // a refusal always says why
      }
    }
  }
  return 0;
}
