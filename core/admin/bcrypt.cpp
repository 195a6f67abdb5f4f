#include "admin/bcrypt.hpp"

#include <openssl/crypto.h>

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "admin/blowfish_init.hpp"

namespace daheim::admin {
namespace {

constexpr std::string_view kAlphabet =
    "./ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
constexpr std::size_t kSaltBytes = 16;
constexpr std::size_t kDigestBytes = 23;
constexpr std::size_t kSaltChars = 22;
constexpr std::size_t kDigestChars = 31;
constexpr std::size_t kMaxKeyBytes = 72;

struct Blowfish {
  std::array<uint32_t, 18> p;
  std::array<std::array<uint32_t, 256>, 4> s;

  Blowfish() {
    std::memcpy(p.data(), blowfish_init::kP, sizeof p);
    for (int i = 0; i < 4; ++i) std::memcpy(s[i].data(), blowfish_init::kS[i], sizeof s[i]);
  }

  uint32_t f(uint32_t x) const {
    return ((s[0][x >> 24] + s[1][(x >> 16) & 0xff]) ^ s[2][(x >> 8) & 0xff]) + s[3][x & 0xff];
  }

  void encrypt(uint32_t& l, uint32_t& r) const {
    for (int i = 0; i < 16; i += 2) {
      l ^= p[i];
      r ^= f(l);
      r ^= p[i + 1];
      l ^= f(r);
    }
    l ^= p[16];
    r ^= p[17];
    std::swap(l, r);
  }
};

// Reads the next big-endian word of `data`, cycling through it.
uint32_t next_word(std::string_view data, std::size_t& pos) {
  uint32_t w = 0;
  for (int i = 0; i < 4; ++i) {
    w = (w << 8) | static_cast<uint8_t>(data[pos]);
    pos = (pos + 1) % data.size();
  }
  return w;
}

// The key schedule: the key into the P-array, then the state re-encrypted
// with itself, mixing in `salt` when one is given (the "expensive" part).
void expand(Blowfish& bf, std::string_view key, std::string_view salt) {
  std::size_t kpos = 0;
  for (uint32_t& w : bf.p) w ^= next_word(key, kpos);
  std::size_t spos = 0;
  uint32_t l = 0;
  uint32_t r = 0;
  auto fill = [&](uint32_t* words, std::size_t n) {
    for (std::size_t i = 0; i < n; i += 2) {
      if (!salt.empty()) {
        l ^= next_word(salt, spos);
        r ^= next_word(salt, spos);
      }
      bf.encrypt(l, r);
      words[i] = l;
      words[i + 1] = r;
    }
  };
  fill(bf.p.data(), bf.p.size());
  for (auto& box : bf.s) fill(box.data(), box.size());
}

std::string encode64(std::string_view bytes) {
  std::string out;
  std::size_t i = 0;
  while (i < bytes.size()) {
    uint32_t c1 = static_cast<uint8_t>(bytes[i++]);
    out += kAlphabet[c1 >> 2];
    c1 = (c1 & 0x03) << 4;
    if (i >= bytes.size()) {
      out += kAlphabet[c1];
      break;
    }
    uint32_t c2 = static_cast<uint8_t>(bytes[i++]);
    out += kAlphabet[c1 | (c2 >> 4)];
    c1 = (c2 & 0x0f) << 2;
    if (i >= bytes.size()) {
      out += kAlphabet[c1];
      break;
    }
    c2 = static_cast<uint8_t>(bytes[i++]);
    out += kAlphabet[c1 | (c2 >> 6)];
    out += kAlphabet[c2 & 0x3f];
  }
  return out;
}

// Decodes `chars` into `n` bytes; nullopt for a character outside the alphabet.
std::optional<std::string> decode64(std::string_view chars, std::size_t n) {
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : chars) {
    std::size_t v = kAlphabet.find(c);
    if (v == std::string_view::npos) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      if (out.size() < n) out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  if (out.size() != n) return std::nullopt;
  return out;
}

}  // namespace

std::optional<BcryptHash> parse_bcrypt(std::string_view text) {
  if (text.size() != 7 + kSaltChars + kDigestChars || text.substr(0, 2) != "$2" || text[3] != '$' ||
      text[6] != '$')
    return std::nullopt;
  BcryptHash h;
  h.minor = text[2];
  if (h.minor != 'a' && h.minor != 'b' && h.minor != 'y') return std::nullopt;
  if (text[4] < '0' || text[4] > '9' || text[5] < '0' || text[5] > '9') return std::nullopt;
  h.cost = (text[4] - '0') * 10 + (text[5] - '0');
  if (h.cost < 4 || h.cost > 31) return std::nullopt;
  auto salt = decode64(text.substr(7, kSaltChars), kSaltBytes);
  auto digest = decode64(text.substr(7 + kSaltChars), kDigestBytes);
  if (!salt || !digest) return std::nullopt;
  h.salt = std::move(*salt);
  h.digest = std::move(*digest);
  return h;
}

std::string bcrypt_digest(std::string_view password, int cost, std::string_view salt) {
  // The key is the password with its terminating NUL, at most 72 bytes.
  std::string key(password.substr(0, kMaxKeyBytes));
  if (key.size() < kMaxKeyBytes) key += '\0';
  Blowfish bf;
  expand(bf, key, salt);
  for (uint64_t i = 0, rounds = uint64_t{1} << cost; i < rounds; ++i) {
    expand(bf, key, {});
    expand(bf, salt, {});
  }
  std::array<uint32_t, 6> text{};
  std::size_t pos = 0;
  constexpr std::string_view kMagic = "OrpheanBeholderScryDoubt";
  for (uint32_t& w : text) w = next_word(kMagic, pos);
  for (int i = 0; i < 64; ++i)
    for (std::size_t j = 0; j < text.size(); j += 2) bf.encrypt(text[j], text[j + 1]);
  std::string out;
  for (uint32_t w : text)
    for (int shift = 24; shift >= 0; shift -= 8) out += static_cast<char>((w >> shift) & 0xff);
  out.resize(kDigestBytes);
  OPENSSL_cleanse(key.data(), key.size());
  return out;
}

std::string bcrypt_hash(std::string_view password, int cost, std::string_view salt, char minor) {
  char head[8];
  std::snprintf(head, sizeof head, "$2%c$%02d$", minor, cost);
  return head + encode64(salt) + encode64(bcrypt_digest(password, cost, salt));
}

bool bcrypt_verify(std::string_view password, const BcryptHash& hash) {
  std::string digest = bcrypt_digest(password, hash.cost, hash.salt);
  return digest.size() == hash.digest.size() &&
         CRYPTO_memcmp(digest.data(), hash.digest.data(), digest.size()) == 0;
}

}  // namespace daheim::admin
