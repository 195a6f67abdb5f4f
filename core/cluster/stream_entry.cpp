#include "cluster/stream_entry.hpp"

#include <openssl/evp.h>

#include <charconv>

namespace daheim::cluster {
namespace {

std::optional<uint64_t> digits(std::string_view s) {
  uint64_t v = 0;
  if (s.empty()) return std::nullopt;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  return v;
}

// The next code point of UTF-8 text (invalid bytes count as U+FFFD).
uint32_t next_code_point(std::string_view s, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = byte(i++);
  if (c < 0x80) return c;
  int more = c >= 0xF0 ? 3 : c >= 0xE0 ? 2 : c >= 0xC0 ? 1 : -1;
  if (more < 0 || i + static_cast<std::size_t>(more) > s.size()) return 0xFFFD;
  uint32_t cp = c & (0x3F >> more);
  for (int k = 0; k < more; ++k) {
    if ((byte(i) & 0xC0) != 0x80) return 0xFFFD;
    cp = (cp << 6) | (byte(i++) & 0x3F);
  }
  return cp;
}

}  // namespace

std::optional<StreamId> parse_stream_id(std::string_view id) {
  std::size_t dash = id.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto ms = digits(id.substr(0, dash));
  auto seq = digits(id.substr(dash + 1));
  if (!ms || !seq) return std::nullopt;
  return StreamId{*ms, *seq};
}

int32_t java_hash(std::string_view utf8) {
  uint32_t h = 0;  // int32 arithmetic with wrap-around
  auto add = [&](uint32_t unit) { h = h * 31u + unit; };
  for (std::size_t i = 0; i < utf8.size();) {
    uint32_t cp = next_code_point(utf8, i);
    if (cp >= 0x10000) {
      cp -= 0x10000;
      add(0xD800 + (cp >> 10));
      add(0xDC00 + (cp & 0x3FF));
    } else {
      add(cp);
    }
  }
  return static_cast<int32_t>(h);
}

std::string stream_for(std::string_view base, std::size_t count, std::string_view nsp) {
  if (count <= 1) return std::string(base);
  int64_t i = static_cast<int64_t>(java_hash(nsp)) % static_cast<int64_t>(count);
  return std::string(base) + "-" + std::to_string(i);
}

std::string base64_encode(std::string_view bytes) {
  std::string out(4 * ((bytes.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0) return std::nullopt;
  std::string out(3 * (text.size() / 4), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(text.data()),
                          static_cast<int>(text.size()));
  if (n < 0) return std::nullopt;
  std::size_t len = static_cast<std::size_t>(n);
  for (std::size_t i = text.size(); i > 0 && text[i - 1] == '='; --i) --len;
  out.resize(len);
  return out;
}

std::string encode_stream_data(std::string_view data_json,
                               std::span<const std::string_view> attachments) {
  if (attachments.empty()) return std::string(data_json);
  msgpack::sbuffer buf;
  Packer pk(buf);
  if (!pack_json(pk, data_json, attachments)) return {};
  return base64_encode(std::string_view(buf.data(), buf.size()));
}

bool decode_stream_data(std::string_view field, msgpack::sbuffer& buf) {
  if (!field.empty() && field[0] == '{') {
    Packer pk(buf);
    return pack_json(pk, field);
  }
  std::optional<std::string> bytes = base64_decode(field);
  if (!bytes) return false;
  buf.write(bytes->data(), bytes->size());
  return true;
}

}  // namespace daheim::cluster
