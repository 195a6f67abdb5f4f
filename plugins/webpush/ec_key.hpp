// A P-256 key (OpenSSL EVP_PKEY) for ECDH and ECDSA: generated, read from
// raw bytes (Web Push's uncompressed points and 32-byte scalars) or PEM.
#pragma once

#include "bytes.hpp"

#include <memory>
#include <optional>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace webpush {

class EcKey {
 public:
  // A fresh key pair; nullopt when OpenSSL fails.
  static std::optional<EcKey> generate();
  // `pub` is an uncompressed point (65 bytes, 0x04 first) on P-256, `priv`
  // the 32-byte scalar or empty for a public key only. nullopt when the
  // bytes are not such a key (a point off the curve, a wrong length).
  static std::optional<EcKey> from_raw(const Bytes& priv, const Bytes& pub);
  // A PEM private key ("EC PRIVATE KEY" or PKCS#8) on P-256; `error` says
  // why not.
  static std::optional<EcKey> from_pem(std::string_view pem, std::string& error);

  // The public key as an uncompressed point (65 bytes).
  const Bytes& public_bytes() const { return public_; }
  EVP_PKEY* get() const { return key_.get(); }

  // ECDH with `peer`'s public key: the 32-byte shared secret, or nullopt.
  std::optional<Bytes> derive(const EcKey& peer) const;

 private:
  struct Free {
    void operator()(EVP_PKEY* k) const;
  };
  EcKey(EVP_PKEY* key, Bytes pub) : key_(key), public_(std::move(pub)) {}
  static std::optional<EcKey> adopt(EVP_PKEY* key);

  std::unique_ptr<EVP_PKEY, Free> key_;
  Bytes public_;
};

}  // namespace webpush
