// Web Push message encryption (RFC 8291) in the `aes128gcm` content coding
// (RFC 8188): one record, the sender's public key as the key id.
#pragma once

#include "bytes.hpp"
#include "ec_key.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace webpush {

// The record size written in the header (RFC 8291 §4 suggests 4096) and
// the largest plaintext that fits one record in a 4096-byte body (RFC 8030
// §7.2: push services accept at least 4096 bytes): 4096 - 86 (header) - 16
// (tag) - 1 (delimiter).
constexpr uint32_t kRecordSize = 4096;
constexpr std::size_t kMaxPlaintext = 3993;

// The user agent's keys from its PushSubscription: `p256dh` (an
// uncompressed P-256 point) and `auth` (16 bytes).
struct Receiver {
  Bytes p256dh;
  Bytes auth;
};

// The intermediate values of RFC 8291 Appendix A, for tests.
struct EceTrace {
  Bytes ecdh_secret;
  Bytes ikm;
  Bytes prk;
  Bytes cek;
  Bytes nonce;
};

// Encrypts `plaintext` for `receiver` with the sender key `sender` and
// `salt` (16 bytes): the whole message body (header and one record).
// nullopt with `error` set when the input cannot be encrypted.
std::optional<Bytes> encrypt(std::string_view plaintext, const Receiver& receiver,
                             const EcKey& sender, const Bytes& salt, std::string& error,
                             EceTrace* trace = nullptr);

// The same with a fresh sender key and a random salt, as every message must.
std::optional<Bytes> encrypt(std::string_view plaintext, const Receiver& receiver,
                             std::string& error);

// HMAC-SHA-256 (HKDF's extract and its one-block expand use it).
Bytes hmac_sha256(std::string_view key, std::string_view data);

}  // namespace webpush
