#include "ec_key.hpp"

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>

#include <array>
#include <cstring>

namespace webpush {

namespace {

constexpr std::size_t kPointBytes = 65;
constexpr std::size_t kScalarBytes = 32;

bool is_p256(EVP_PKEY* key) {
  std::array<char, 64> name{};
  std::size_t len = 0;
  if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, name.data(), name.size(),
                                     &len) != 1)
    return false;
  std::string_view n(name.data(), len);
  return n == "prime256v1" || n == "P-256";
}

}  // namespace

void EcKey::Free::operator()(EVP_PKEY* k) const {
  EVP_PKEY_free(k);
}

std::optional<EcKey> EcKey::adopt(EVP_PKEY* key) {
  if (key == nullptr) return std::nullopt;
  if (!is_p256(key)) {
    EVP_PKEY_free(key);
    return std::nullopt;
  }
  // Uncompressed, whatever form the key was read in.
  EVP_PKEY_set_utf8_string_param(key, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, "uncompressed");
  std::array<unsigned char, kPointBytes> pub{};
  std::size_t len = 0;
  if (EVP_PKEY_get_octet_string_param(key, OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size(), &len) !=
          1 ||
      len != kPointBytes) {
    EVP_PKEY_free(key);
    return std::nullopt;
  }
  return EcKey(key, Bytes(reinterpret_cast<const char*>(pub.data()), len));
}

std::optional<EcKey> EcKey::generate() {
  return adopt(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
}

std::optional<EcKey> EcKey::from_raw(const Bytes& priv, const Bytes& pub) {
  if (pub.size() != kPointBytes || pub[0] != 0x04) return std::nullopt;
  if (!priv.empty() && priv.size() != kScalarBytes) return std::nullopt;
  OSSL_PARAM_BLD* bld = OSSL_PARAM_BLD_new();
  BIGNUM* d = nullptr;
  OSSL_PARAM* params = nullptr;
  EVP_PKEY_CTX* ctx = nullptr;
  EVP_PKEY* key = nullptr;
  bool ok = bld != nullptr &&
            OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME, "prime256v1", 0) &&
            OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pub.data(), pub.size());
  if (ok && !priv.empty()) {
    d = BN_bin2bn(reinterpret_cast<const unsigned char*>(priv.data()),
                  static_cast<int>(priv.size()), nullptr);
    ok = d != nullptr && OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
  }
  if (ok) params = OSSL_PARAM_BLD_to_param(bld);
  if (params != nullptr) ctx = EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr);
  if (ctx != nullptr && EVP_PKEY_fromdata_init(ctx) == 1)
    EVP_PKEY_fromdata(ctx, &key, priv.empty() ? EVP_PKEY_PUBLIC_KEY : EVP_PKEY_KEYPAIR, params);
  EVP_PKEY_CTX_free(ctx);
  OSSL_PARAM_free(params);
  BN_clear_free(d);
  OSSL_PARAM_BLD_free(bld);
  if (key == nullptr) return std::nullopt;
  // fromdata decodes the point (on the curve, or it fails); check the pair.
  EVP_PKEY_CTX* check = EVP_PKEY_CTX_new_from_pkey(nullptr, key, nullptr);
  int valid = check == nullptr ? 0
              : priv.empty()   ? EVP_PKEY_public_check(check)
                               : EVP_PKEY_pairwise_check(check);
  EVP_PKEY_CTX_free(check);
  if (valid != 1) {
    EVP_PKEY_free(key);
    return std::nullopt;
  }
  return adopt(key);
}

std::optional<EcKey> EcKey::from_pem(std::string_view pem, std::string& error) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) {
    error = "out of memory";
    return std::nullopt;
  }
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) {
    error = "not a PEM private key";
    return std::nullopt;
  }
  std::optional<EcKey> k = adopt(key);
  if (!k) error = "not an EC key on P-256 (prime256v1)";
  return k;
}

std::optional<Bytes> EcKey::derive(const EcKey& peer) const {
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_from_pkey(nullptr, key_.get(), nullptr);
  std::array<unsigned char, 64> secret{};
  std::size_t len = secret.size();
  bool ok = ctx != nullptr && EVP_PKEY_derive_init(ctx) == 1 &&
            EVP_PKEY_derive_set_peer(ctx, peer.get()) == 1 &&
            EVP_PKEY_derive(ctx, secret.data(), &len) == 1;
  EVP_PKEY_CTX_free(ctx);
  if (!ok || len != kScalarBytes) return std::nullopt;
  return Bytes(reinterpret_cast<const char*>(secret.data()), len);
}

}  // namespace webpush
