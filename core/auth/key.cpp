#include "auth/key.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/decoder.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <cstdint>
#include <cstring>

namespace daheim::auth {

struct Key::Secret {
  std::string bytes;
  explicit Secret(std::string_view s) : bytes(s) {}
  Secret(const Secret&) = delete;
  Secret& operator=(const Secret&) = delete;
  ~Secret() { OPENSSL_cleanse(bytes.data(), bytes.size()); }
};

namespace {

constexpr int kMinRsaBits = 2048;

template <typename T, void (*F)(T*)>
struct Free {
  void operator()(T* p) const { F(p); }
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY, EVP_PKEY_free>>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, Free<EVP_PKEY_CTX, EVP_PKEY_CTX_free>>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, Free<EVP_MD_CTX, EVP_MD_CTX_free>>;
using BioPtr = std::unique_ptr<BIO, Free<BIO, BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Free<X509, X509_free>>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, Free<ECDSA_SIG, ECDSA_SIG_free>>;
using DecoderCtxPtr =
    std::unique_ptr<OSSL_DECODER_CTX, Free<OSSL_DECODER_CTX, OSSL_DECODER_CTX_free>>;

const EVP_MD* digest_of(Algorithm alg) {
  switch (alg) {
    case Algorithm::HS256:
    case Algorithm::RS256:
    case Algorithm::PS256:
    case Algorithm::ES256:
      return EVP_sha256();
    case Algorithm::HS384:
    case Algorithm::RS384:
    case Algorithm::PS384:
    case Algorithm::ES384:
      return EVP_sha384();
    case Algorithm::HS512:
    case Algorithm::RS512:
    case Algorithm::PS512:
      return EVP_sha512();
    case Algorithm::EdDSA:
      return nullptr;
  }
  return nullptr;
}

const char* digest_name(Algorithm alg) {
  switch (alg) {
    case Algorithm::HS384:
      return "SHA384";
    case Algorithm::HS512:
      return "SHA512";
    default:
      return "SHA256";
  }
}

bool is_rsa(Algorithm alg) {
  return alg == Algorithm::RS256 || alg == Algorithm::RS384 || alg == Algorithm::RS512 ||
         alg == Algorithm::PS256 || alg == Algorithm::PS384 || alg == Algorithm::PS512;
}

bool is_pss(Algorithm alg) {
  return alg == Algorithm::PS256 || alg == Algorithm::PS384 || alg == Algorithm::PS512;
}

// Bytes of r and of s in a JWS ECDSA signature (RFC 7518 §3.4).
std::size_t ecdsa_half(Algorithm alg) {
  return alg == Algorithm::ES384 ? 48 : 32;
}

bool fail() {
  ERR_clear_error();
  return false;
}

bool verify_hmac(const std::string& secret, Algorithm alg, std::string_view input,
                 std::string_view sig) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  std::size_t mac_len = 0;
  if (EVP_Q_mac(nullptr, "HMAC", nullptr, digest_name(alg), nullptr, secret.data(), secret.size(),
                reinterpret_cast<const unsigned char*>(input.data()), input.size(), mac, sizeof mac,
                &mac_len) == nullptr) {
    return fail();
  }
  bool ok = sig.size() == mac_len && CRYPTO_memcmp(mac, sig.data(), mac_len) == 0;
  OPENSSL_cleanse(mac, sizeof mac);
  return ok;
}

// JWS ECDSA signatures are r||s, fixed width; OpenSSL wants DER.
std::string ecdsa_raw_to_der(Algorithm alg, std::string_view sig) {
  std::size_t half = ecdsa_half(alg);
  if (sig.size() != 2 * half) return {};
  const auto* raw = reinterpret_cast<const unsigned char*>(sig.data());
  EcdsaSigPtr es(ECDSA_SIG_new());
  if (!es) return {};
  BIGNUM* r = BN_bin2bn(raw, static_cast<int>(half), nullptr);
  BIGNUM* s = BN_bin2bn(raw + half, static_cast<int>(half), nullptr);
  if (r == nullptr || s == nullptr || ECDSA_SIG_set0(es.get(), r, s) != 1) {
    BN_free(r);
    BN_free(s);
    return {};
  }
  unsigned char* der = nullptr;
  int der_len = i2d_ECDSA_SIG(es.get(), &der);
  if (der_len <= 0) return {};
  std::string out(reinterpret_cast<const char*>(der), static_cast<std::size_t>(der_len));
  OPENSSL_free(der);
  return out;
}

bool verify_pkey(EVP_PKEY* pkey, Algorithm alg, std::string_view input, std::string_view sig) {
  std::string der;
  if (alg == Algorithm::ES256 || alg == Algorithm::ES384) {
    der = ecdsa_raw_to_der(alg, sig);
    if (der.empty()) return fail();
    sig = der;
  } else if (alg == Algorithm::EdDSA && sig.size() != 64) {
    return false;
  }
  MdCtxPtr ctx(EVP_MD_CTX_new());
  if (!ctx) return fail();
  EVP_PKEY_CTX* pctx = nullptr;  // owned by ctx
  if (EVP_DigestVerifyInit(ctx.get(), &pctx, digest_of(alg), nullptr, pkey) != 1) return fail();
  if (is_pss(alg)) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PSS_PADDING) != 1 ||
        EVP_PKEY_CTX_set_rsa_mgf1_md(pctx, digest_of(alg)) != 1 ||
        EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST) != 1) {
      return fail();
    }
  } else if (is_rsa(alg)) {
    if (EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) != 1) return fail();
  }
  if (EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(sig.data()), sig.size(),
                       reinterpret_cast<const unsigned char*>(input.data()), input.size()) != 1) {
    return fail();
  }
  return true;
}

std::string group_name(EVP_PKEY* pkey) {
  char buf[64];
  std::size_t len = 0;
  if (EVP_PKEY_get_group_name(pkey, buf, sizeof buf, &len) != 1) {
    ERR_clear_error();
    return {};
  }
  return std::string(buf, len);
}

std::string key_type_mismatch(EVP_PKEY* pkey, Algorithm alg) {
  std::string want;
  if (is_rsa(alg)) {
    bool rsa = EVP_PKEY_is_a(pkey, "RSA") == 1;
    bool rsa_pss = EVP_PKEY_is_a(pkey, "RSA-PSS") == 1;
    if (rsa || (rsa_pss && is_pss(alg))) {
      int bits = EVP_PKEY_get_bits(pkey);
      if (bits < kMinRsaBits) {
        return "RSA key has " + std::to_string(bits) + " bits; at least " +
               std::to_string(kMinRsaBits) + " are required";
      }
      return {};
    }
    want = is_pss(alg) ? "an RSA or RSA-PSS key" : "an RSA key";
  } else if (alg == Algorithm::ES256 || alg == Algorithm::ES384) {
    const char* curve = alg == Algorithm::ES256 ? "prime256v1" : "secp384r1";
    const char* nist = alg == Algorithm::ES256 ? "P-256" : "P-384";
    if (EVP_PKEY_is_a(pkey, "EC") == 1) {
      std::string g = group_name(pkey);
      if (g == curve || g == nist) return {};
    }
    want = std::string("an EC ") + nist + " key";
  } else if (alg == Algorithm::EdDSA) {
    if (EVP_PKEY_is_a(pkey, "ED25519") == 1) return {};
    want = "an Ed25519 key";
  } else {
    want = "an HMAC secret, not a public key";
  }
  const char* type = EVP_PKEY_get0_type_name(pkey);
  return std::string(name(alg)) + " needs " + want + " (got " + (type ? type : "unknown") + ")";
}

EVP_PKEY* decode_public_pem(std::string_view pem) {
  EVP_PKEY* pkey = nullptr;
  DecoderCtxPtr dctx(OSSL_DECODER_CTX_new_for_pkey(&pkey, "PEM", nullptr, nullptr,
                                                   EVP_PKEY_PUBLIC_KEY, nullptr, nullptr));
  if (!dctx) return nullptr;
  const auto* data = reinterpret_cast<const unsigned char*>(pem.data());
  std::size_t len = pem.size();
  if (OSSL_DECODER_from_data(dctx.get(), &data, &len) != 1) {
    EVP_PKEY_free(pkey);
    return nullptr;
  }
  return pkey;
}

EVP_PKEY* decode_certificate_pem(std::string_view pem) {
  BioPtr bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  if (!bio) return nullptr;
  X509Ptr cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return nullptr;
  return X509_get_pubkey(cert.get());  // a new reference
}

}  // namespace

std::optional<Key> Key::from_secret(std::string_view secret, Algorithm alg, std::string kid,
                                    std::string& error) {
  if (!is_hmac(alg)) {
    error = std::string(name(alg)) + " needs a public key, not an HMAC secret";
    return std::nullopt;
  }
  std::size_t min = static_cast<std::size_t>(EVP_MD_get_size(digest_of(alg)));
  if (secret.size() < min) {
    error = "the secret has " + std::to_string(secret.size()) + " bytes; " +
            std::string(name(alg)) + " needs at least " + std::to_string(min);
    return std::nullopt;
  }
  Key key(alg, std::move(kid));
  key.secret_ = std::make_shared<const Secret>(secret);
  return key;
}

std::optional<Key> Key::from_pem(std::string_view pem, Algorithm alg, std::string kid,
                                 std::string& error) {
  if (pem.size() > static_cast<std::size_t>(INT32_MAX)) {
    error = "PEM text too large";
    return std::nullopt;
  }
  if (pem.find("PRIVATE KEY-----") != std::string_view::npos) {
    error = "holds a private key; configure the public key instead";
    return std::nullopt;
  }
  EVP_PKEY* pkey = nullptr;
  if (pem.find("-----BEGIN CERTIFICATE-----") != std::string_view::npos) {
    pkey = decode_certificate_pem(pem);
  } else {
    pkey = decode_public_pem(pem);
  }
  ERR_clear_error();
  if (pkey == nullptr) {
    error = "not a PEM public key or certificate";
    return std::nullopt;
  }
  return from_pkey(pkey, alg, std::move(kid), error);
}

std::optional<Key> Key::from_pkey(EVP_PKEY* raw, Algorithm alg, std::string kid,
                                  std::string& error) {
  PkeyPtr pkey(raw);
  if (!pkey) {
    error = "no key";
    return std::nullopt;
  }
  if (std::string mismatch = key_type_mismatch(pkey.get(), alg); !mismatch.empty()) {
    error = std::move(mismatch);
    return std::nullopt;
  }
  PkeyCtxPtr check(EVP_PKEY_CTX_new_from_pkey(nullptr, pkey.get(), nullptr));
  if (!check || EVP_PKEY_public_check(check.get()) != 1) {
    ERR_clear_error();
    error = "the public key fails OpenSSL's consistency check";
    return std::nullopt;
  }
  Key key(alg, std::move(kid));
  key.pkey_ = std::shared_ptr<EVP_PKEY>(pkey.release(), EVP_PKEY_free);
  return key;
}

bool Key::verify(std::string_view signing_input, std::string_view signature) const {
  if (secret_) return verify_hmac(secret_->bytes, alg_, signing_input, signature);
  if (pkey_) return verify_pkey(pkey_.get(), alg_, signing_input, signature);
  return false;
}

}  // namespace daheim::auth
