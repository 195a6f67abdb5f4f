#include "auth/jwk.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>

#include <memory>

#include "auth/base64url.hpp"
#include "auth/json_parse.hpp"

namespace daheim::auth {
namespace {

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using BnPtr = std::unique_ptr<BIGNUM, Free<BIGNUM, BN_free>>;
using ParamBldPtr = std::unique_ptr<OSSL_PARAM_BLD, Free<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free>>;
using ParamPtr = std::unique_ptr<OSSL_PARAM, Free<OSSL_PARAM, OSSL_PARAM_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;

// A string member: nullopt when absent; `bad` set when present but not a string.
std::optional<std::string> string_member(const cJSON* obj, const char* name, bool& bad) {
  const cJSON* item = cJSON_GetObjectItemCaseSensitive(obj, name);
  if (item == nullptr) return std::nullopt;
  if (!cJSON_IsString(item) || item->valuestring == nullptr) {
    bad = true;
    return std::nullopt;
  }
  return std::string(item->valuestring);
}

// A required base64url member, decoded.
std::optional<std::string> bytes_member(const cJSON* obj, const char* name, std::string& error) {
  bool bad = false;
  auto text = string_member(obj, name, bad);
  if (!text) {
    error = std::string("member '") + name + "' is missing or not a string";
    return std::nullopt;
  }
  auto bytes = base64url_decode(*text);
  if (!bytes || bytes->empty()) {
    error = std::string("member '") + name + "' is not base64url";
    return std::nullopt;
  }
  return bytes;
}

EVP_PKEY* pkey_from_params(const char* type, OSSL_PARAM_BLD* bld) {
  ParamPtr params(OSSL_PARAM_BLD_to_param(bld));
  PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, type, nullptr));
  EVP_PKEY* pkey = nullptr;
  if (!params || !ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1 ||
      EVP_PKEY_fromdata(ctx.get(), &pkey, EVP_PKEY_PUBLIC_KEY, params.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return pkey;
}

EVP_PKEY* rsa_pkey(const std::string& n, const std::string& e) {
  BnPtr bn_n(BN_bin2bn(reinterpret_cast<const unsigned char*>(n.data()), static_cast<int>(n.size()),
                       nullptr));
  BnPtr bn_e(BN_bin2bn(reinterpret_cast<const unsigned char*>(e.data()), static_cast<int>(e.size()),
                       nullptr));
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bn_n || !bn_e || !bld ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, bn_n.get()) != 1 ||
      OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, bn_e.get()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return pkey_from_params("RSA", bld.get());
}

EVP_PKEY* ec_pkey(const char* group, const std::string& x, const std::string& y) {
  std::string point = "\x04" + x + y;  // uncompressed SEC1 point
  ParamBldPtr bld(OSSL_PARAM_BLD_new());
  if (!bld ||
      OSSL_PARAM_BLD_push_utf8_string(bld.get(), OSSL_PKEY_PARAM_GROUP_NAME, group, 0) != 1 ||
      OSSL_PARAM_BLD_push_octet_string(bld.get(), OSSL_PKEY_PARAM_PUB_KEY, point.data(),
                                       point.size()) != 1) {
    ERR_clear_error();
    return nullptr;
  }
  return pkey_from_params("EC", bld.get());
}

std::optional<Key> rsa_key(const cJSON* jwk, Algorithm alg, std::string kid, std::string& error) {
  auto n = bytes_member(jwk, "n", error);
  if (!n) return std::nullopt;
  auto e = bytes_member(jwk, "e", error);
  if (!e) return std::nullopt;
  if (n->size() > 2048 || e->size() > 8) {  // 16384-bit modulus, 64-bit exponent
    error = "RSA key too large";
    return std::nullopt;
  }
  EVP_PKEY* pkey = rsa_pkey(*n, *e);
  if (pkey == nullptr) {
    error = "not a valid RSA public key";
    return std::nullopt;
  }
  return Key::from_pkey(pkey, alg, std::move(kid), error);
}

std::optional<Key> ec_key(const cJSON* jwk, const std::string& crv, Algorithm alg, std::string kid,
                          std::string& error) {
  std::size_t len = crv == "P-256" ? 32 : 48;
  auto x = bytes_member(jwk, "x", error);
  if (!x) return std::nullopt;
  auto y = bytes_member(jwk, "y", error);
  if (!y) return std::nullopt;
  if (x->size() != len || y->size() != len) {
    error = "coordinates of a " + crv + " key must be " + std::to_string(len) + " bytes";
    return std::nullopt;
  }
  EVP_PKEY* pkey = ec_pkey(crv.c_str(), *x, *y);
  if (pkey == nullptr) {
    error = "not a valid " + crv + " public key";
    return std::nullopt;
  }
  return Key::from_pkey(pkey, alg, std::move(kid), error);
}

std::optional<Key> okp_key(const cJSON* jwk, Algorithm alg, std::string kid, std::string& error) {
  auto x = bytes_member(jwk, "x", error);
  if (!x) return std::nullopt;
  if (x->size() != 32) {
    error = "an Ed25519 key must be 32 bytes";
    return std::nullopt;
  }
  EVP_PKEY* pkey = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr, reinterpret_cast<const unsigned char*>(x->data()), x->size());
  if (pkey == nullptr) {
    ERR_clear_error();
    error = "not a valid Ed25519 public key";
    return std::nullopt;
  }
  return Key::from_pkey(pkey, alg, std::move(kid), error);
}

std::optional<Key> oct_key(const cJSON* jwk, Algorithm alg, std::string kid, std::string& error) {
  auto k = bytes_member(jwk, "k", error);
  if (!k) return std::nullopt;
  auto key = Key::from_secret(*k, alg, std::move(kid), error);
  OPENSSL_cleanse(k->data(), k->size());
  return key;
}

}  // namespace

JwkResult key_from_jwk(const cJSON* jwk, std::optional<Key>& key, std::string& error) {
  if (!cJSON_IsObject(jwk)) {
    error = "not a JSON object";
    return JwkResult::error;
  }
  bool bad = false;
  auto kty = string_member(jwk, "kty", bad);
  auto use = string_member(jwk, "use", bad);
  auto kid = string_member(jwk, "kid", bad);
  auto alg_name = string_member(jwk, "alg", bad);
  auto crv = string_member(jwk, "crv", bad);
  if (bad) {
    error = "kty, use, kid, alg and crv must be strings";
    return JwkResult::error;
  }
  if (use && *use != "sig") return JwkResult::skipped;
  if (!kty) {
    error = "member 'kty' is missing";
    return JwkResult::error;
  }
  if (*kty != "oct" && cJSON_GetObjectItemCaseSensitive(jwk, "d") != nullptr) {
    error = "holds private key material ('d'); give only the public key";
    return JwkResult::error;
  }

  std::optional<Algorithm> alg;
  if (alg_name) {
    alg = parse_algorithm(*alg_name);
    if (!alg) {
      error = "unsupported alg '" + printable(*alg_name) + "'";
      return JwkResult::error;
    }
  }
  std::string id = kid.value_or("");
  if (*kty == "RSA") {
    key = rsa_key(jwk, alg.value_or(Algorithm::RS256), std::move(id), error);
  } else if (*kty == "EC") {
    if (!crv || (*crv != "P-256" && *crv != "P-384")) {
      error = "unsupported EC curve (P-256 and P-384 are supported)";
      return JwkResult::error;
    }
    Algorithm inferred = *crv == "P-256" ? Algorithm::ES256 : Algorithm::ES384;
    key = ec_key(jwk, *crv, alg.value_or(inferred), std::move(id), error);
  } else if (*kty == "OKP") {
    if (!crv || *crv != "Ed25519") {
      error = "unsupported OKP curve (Ed25519 is supported)";
      return JwkResult::error;
    }
    key = okp_key(jwk, alg.value_or(Algorithm::EdDSA), std::move(id), error);
  } else if (*kty == "oct") {
    key = oct_key(jwk, alg.value_or(Algorithm::HS256), std::move(id), error);
  } else {
    error = "unsupported kty '" + printable(*kty) + "'";
    return JwkResult::error;
  }
  return key ? JwkResult::key : JwkResult::error;
}

}  // namespace daheim::auth
