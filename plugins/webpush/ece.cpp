#include "ece.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <array>
#include <memory>

namespace webpush {

namespace {

constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kAuthBytes = 16;
constexpr std::size_t kKeyBytes = 16;
constexpr std::size_t kNonceBytes = 12;
constexpr std::size_t kTagBytes = 16;
constexpr char kLastRecord = 0x02;

using namespace std::string_view_literals;

// HKDF-Expand for one block (L <= 32): HMAC(prk, info || 0x01), truncated.
Bytes expand(const Bytes& prk, std::string_view info, std::size_t length) {
  Bytes block = hmac_sha256(prk, Bytes(info) + '\x01');
  block.resize(length);
  return block;
}

// The RFC 8188 header: salt, record size (big-endian), key id length, key id.
Bytes header(const Bytes& salt, const Bytes& key_id) {
  Bytes h = salt;
  for (int shift = 24; shift >= 0; shift -= 8)
    h.push_back(static_cast<char>((kRecordSize >> shift) & 0xFF));
  h.push_back(static_cast<char>(key_id.size()));
  h += key_id;
  return h;
}

struct CipherFree {
  void operator()(EVP_CIPHER_CTX* c) const { EVP_CIPHER_CTX_free(c); }
};

std::optional<Bytes> seal(const Bytes& key, const Bytes& nonce, const Bytes& record) {
  std::unique_ptr<EVP_CIPHER_CTX, CipherFree> ctx(EVP_CIPHER_CTX_new());
  auto u8 = [](const Bytes& b) { return reinterpret_cast<const unsigned char*>(b.data()); };
  Bytes out(record.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  int len = 0, tail = 0;
  if (!ctx || EVP_EncryptInit_ex(ctx.get(), EVP_aes_128_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()),
                          nullptr) != 1 ||
      EVP_EncryptInit_ex(ctx.get(), nullptr, nullptr, u8(key), u8(nonce)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), o, &len, u8(record), static_cast<int>(record.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), o + len, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes, o + len + tail) != 1)
    return std::nullopt;
  out.resize(static_cast<std::size_t>(len + tail) + kTagBytes);
  return out;
}

}  // namespace

Bytes hmac_sha256(std::string_view key, std::string_view data) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
  unsigned int len = 0;
  if (HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
           reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac.data(),
           &len) == nullptr)
    return {};
  return Bytes(reinterpret_cast<const char*>(mac.data()), len);
}

std::optional<Bytes> encrypt(std::string_view plaintext, const Receiver& receiver,
                             const EcKey& sender, const Bytes& salt, std::string& error,
                             EceTrace* trace) {
  if (plaintext.size() > kMaxPlaintext) {
    error = "the payload is longer than " + std::to_string(kMaxPlaintext) + " bytes";
    return std::nullopt;
  }
  if (salt.size() != kSaltBytes || receiver.auth.size() != kAuthBytes) {
    error = "the salt and the auth secret must be 16 bytes";
    return std::nullopt;
  }
  std::optional<EcKey> ua = EcKey::from_raw({}, receiver.p256dh);
  if (!ua) {
    error = "p256dh is not a P-256 public key";
    return std::nullopt;
  }
  std::optional<Bytes> ecdh = sender.derive(*ua);
  if (!ecdh) {
    error = "ECDH failed";
    return std::nullopt;
  }
  // RFC 8291 §3.4: combine the ECDH secret with the auth secret, then
  // RFC 8188 §2.2: derive the content key and the nonce with the salt.
  Bytes key_info = Bytes("WebPush: info\0"sv) + receiver.p256dh + sender.public_bytes();
  Bytes prk_key = hmac_sha256(receiver.auth, *ecdh);
  Bytes ikm = expand(prk_key, key_info, 32);
  Bytes prk = hmac_sha256(salt, ikm);
  Bytes cek = expand(prk, "Content-Encoding: aes128gcm\0"sv, kKeyBytes);
  Bytes nonce = expand(prk, "Content-Encoding: nonce\0"sv, kNonceBytes);
  if (trace) *trace = EceTrace{*ecdh, ikm, prk, cek, nonce};

  Bytes record = Bytes(plaintext) + kLastRecord;  // no padding
  std::optional<Bytes> sealed = seal(cek, nonce, record);
  if (!sealed) {
    error = "AES-128-GCM failed";
    return std::nullopt;
  }
  return header(salt, sender.public_bytes()) + *sealed;
}

std::optional<Bytes> encrypt(std::string_view plaintext, const Receiver& receiver,
                             std::string& error) {
  std::optional<EcKey> sender = EcKey::generate();
  Bytes salt(kSaltBytes, '\0');
  if (!sender || RAND_bytes(reinterpret_cast<unsigned char*>(salt.data()), kSaltBytes) != 1) {
    error = "no random key or salt";
    return std::nullopt;
  }
  return encrypt(plaintext, receiver, *sender, salt, error);
}

}  // namespace webpush
