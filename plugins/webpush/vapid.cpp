#include "vapid.hpp"

#include <daheim/json.hpp>

#include <openssl/bn.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>

#include <memory>
#include <vector>

namespace webpush {

namespace {

constexpr int kCoordinateBytes = 32;

struct MdFree {
  void operator()(EVP_MD_CTX* c) const { EVP_MD_CTX_free(c); }
};

// DER ECDSA-Sig-Value -> r || s, each left-padded to 32 bytes.
std::optional<Bytes> der_to_jose(const unsigned char* der, std::size_t len) {
  ECDSA_SIG* sig = d2i_ECDSA_SIG(nullptr, &der, static_cast<long>(len));
  if (sig == nullptr) return std::nullopt;
  const BIGNUM* r = nullptr;
  const BIGNUM* s = nullptr;
  ECDSA_SIG_get0(sig, &r, &s);
  Bytes out(2 * kCoordinateBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  bool ok = BN_bn2binpad(r, o, kCoordinateBytes) == kCoordinateBytes &&
            BN_bn2binpad(s, o + kCoordinateBytes, kCoordinateBytes) == kCoordinateBytes;
  ECDSA_SIG_free(sig);
  if (!ok) return std::nullopt;
  return out;
}

}  // namespace

std::string origin_of(std::string_view url) {
  std::size_t scheme_end = url.find("://");
  if (scheme_end == std::string_view::npos) return {};
  std::string_view scheme = url.substr(0, scheme_end);
  if (scheme != "https" && scheme != "http") return {};
  std::size_t host_start = scheme_end + 3;
  std::size_t host_end = url.find_first_of("/?#", host_start);
  std::string_view authority = url.substr(host_start, host_end - host_start);
  if (authority.empty() || authority.find('@') != std::string_view::npos) return {};
  return std::string(url.substr(0, host_start)) + std::string(authority);
}

std::optional<Bytes> es256_sign(const EcKey& key, std::string_view data) {
  std::unique_ptr<EVP_MD_CTX, MdFree> ctx(EVP_MD_CTX_new());
  std::vector<unsigned char> der(80);  // 72 at most for P-256
  std::size_t len = der.size();
  if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key.get()) != 1 ||
      EVP_DigestSign(ctx.get(), der.data(), &len,
                     reinterpret_cast<const unsigned char*>(data.data()), data.size()) != 1)
    return std::nullopt;
  return der_to_jose(der.data(), len);
}

Vapid::Vapid(EcKey key, std::string subject)
    : key_(std::move(key)),
      subject_(std::move(subject)),
      public_key_(base64url_encode(key_.public_bytes())) {}

std::optional<std::string> Vapid::token(std::string_view audience, int64_t exp) const {
  static const std::string kHeader = base64url_encode(R"({"typ":"JWT","alg":"ES256"})");
  dhl::Json claims = dhl::Json::object({{"aud", audience}, {"exp", exp}, {"sub", subject_}});
  std::string signing_input = kHeader + '.' + base64url_encode(claims.dump());
  std::optional<Bytes> sig = es256_sign(key_, signing_input);
  if (!sig) return std::nullopt;
  return signing_input + '.' + base64url_encode(*sig);
}

std::optional<std::string> Vapid::authorization(std::string_view endpoint, int64_t exp) const {
  std::string aud = origin_of(endpoint);
  if (aud.empty()) return std::nullopt;
  std::optional<std::string> t = token(aud, exp);
  if (!t) return std::nullopt;
  return "vapid t=" + *t + ", k=" + public_key_;
}

}  // namespace webpush
