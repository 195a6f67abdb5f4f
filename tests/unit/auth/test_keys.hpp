// OpenSSL-generated keys and tokens for the auth unit tests (round trips through our verifier;
// the independent cross-check is jsonwebtoken_test.cpp).
#pragma once

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <memory>
#include <string>
#include <string_view>

#include "auth/algorithm.hpp"
#include "auth/base64url.hpp"

namespace daheim::auth::test {

struct PkeyFree {
  void operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

inline Pkey rsa_key(unsigned bits = 2048) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<std::size_t>(bits)));
}
inline Pkey ec_key(const char* curve) {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", curve));
}
inline Pkey ed25519_key() {
  return Pkey(EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519"));
}

inline std::string bio_text(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<std::size_t>(len));
  BIO_free(bio);
  return out;
}

inline std::string public_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PUBKEY(bio, key);
  return bio_text(bio);
}

inline std::string private_pem(EVP_PKEY* key) {
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  return bio_text(bio);
}

// A self-signed certificate for `key`, as PEM.
inline std::string certificate_pem(EVP_PKEY* key) {
  X509* cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  X509_NAME* name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("daheim test"), -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, cert);
  X509_free(cert);
  return bio_text(bio);
}

inline const EVP_MD* test_digest(Algorithm alg) {
  switch (alg) {
    case Algorithm::RS384:
    case Algorithm::PS384:
    case Algorithm::ES384:
      return EVP_sha384();
    case Algorithm::RS512:
    case Algorithm::PS512:
      return EVP_sha512();
    case Algorithm::EdDSA:
      return nullptr;
    default:
      return EVP_sha256();
  }
}

// A JWS signature (JOSE format) over `input` with a private key.
inline std::string jws_sign(EVP_PKEY* key, Algorithm alg, std::string_view input) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_PKEY_CTX* pctx = nullptr;
  EVP_DigestSignInit(ctx, &pctx, test_digest(alg), nullptr, key);
  if (alg == Algorithm::PS256 || alg == Algorithm::PS384 || alg == Algorithm::PS512) {
    EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING);
    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST);
  }
  std::size_t len = 0;
  const auto* in = reinterpret_cast<const unsigned char*>(input.data());
  EVP_DigestSign(ctx, nullptr, &len, in, input.size());
  std::string sig(len, '\0');
  EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len, in, input.size());
  sig.resize(len);
  EVP_MD_CTX_free(ctx);
  if (alg == Algorithm::ES256 || alg == Algorithm::ES384) {  // DER -> r||s
    std::size_t half = alg == Algorithm::ES256 ? 32 : 48;
    const auto* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(2 * half, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()),
                 static_cast<int>(half));
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + half,
                 static_cast<int>(half));
    ECDSA_SIG_free(es);
    return raw;
  }
  return sig;
}

inline std::string signed_token(EVP_PKEY* key, Algorithm alg, std::string_view payload,
                                std::string_view kid = {}) {
  std::string header = R"({"alg":")" + std::string(name(alg)) + '"';
  if (!kid.empty()) header += R"(,"kid":")" + std::string(kid) + '"';
  header += '}';
  std::string input = base64url_encode(header) + "." + base64url_encode(payload);
  return input + "." + base64url_encode(jws_sign(key, alg, input));
}

// A public key parameter as unpadded base64url (for hand-written JWKs).
inline std::string bn_param_b64(EVP_PKEY* key, const char* param) {
  BIGNUM* bn = nullptr;
  EVP_PKEY_get_bn_param(key, param, &bn);
  std::string bytes(static_cast<std::size_t>(BN_num_bytes(bn)), '\0');
  BN_bn2bin(bn, reinterpret_cast<unsigned char*>(bytes.data()));
  BN_free(bn);
  return base64url_encode(bytes);
}

inline std::string octet_param(EVP_PKEY* key, const char* param) {
  std::string out(256, '\0');
  std::size_t len = 0;
  EVP_PKEY_get_octet_string_param(key, param, reinterpret_cast<unsigned char*>(out.data()),
                                  out.size(), &len);
  out.resize(len);
  return out;
}

}  // namespace daheim::auth::test
