#include "engineio/codec_v3.hpp"

#include <charconv>

#include "engineio/base64.hpp"

namespace daheim::engineio::v3 {
namespace {

constexpr char kMessageByte = 4;
constexpr unsigned char kTextItem = 0x00;
constexpr unsigned char kBinaryItem = 0x01;
constexpr unsigned char kLengthEnd = 0xFF;
constexpr std::size_t kMaxLengthDigits = 10;  // beyond any body we accept

void append_length_digits(std::string& out, std::size_t n) {
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, n);
  for (const char* p = digits; p < end; ++p) out += static_cast<char>(*p - '0');
}

// The text of a frame as a v3 packet: text as it is, binary as "b4<base64>".
std::string packet_text(const Frame& frame) {
  if (!frame.binary) return std::string(frame.body());
  std::string s = "b4";
  base64_encode_append(frame.body().substr(1), s);
  return s;
}

// Advances `i` past `units` UTF-16 code units of `s`; false if the text
// ends first or a sequence would be split.
bool skip_utf16(std::string_view s, std::size_t& i, std::size_t units) {
  while (units > 0) {
    if (i >= s.size()) return false;
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;
    std::size_t u = len == 4 ? 2 : 1;
    if (u > units || i + len > s.size()) return false;
    i += len;
    units -= u;
  }
  return true;
}

bool add_text_packet(DecodedPayload& out, std::string_view text) {
  if (text.size() >= 2 && text[0] == 'b') {
    if (text[1] != '4') return false;  // only messages carry binary
    auto bytes = base64_decode(text.substr(2));
    if (!bytes) return false;
    out.binary_storage.push_back(std::move(*bytes));
    out.packets.push_back({PacketType::Message, true, out.binary_storage.back()});
    return true;
  }
  auto p = decode_packet(text);
  if (!p) return false;
  out.packets.push_back(*p);
  return true;
}

DecodedPayload decode_text(std::string_view body) {
  DecodedPayload out;
  std::size_t i = 0;
  if (body.empty()) out.error = true;
  while (i < body.size()) {
    std::size_t colon = body.find(':', i);
    if (colon == std::string_view::npos || colon == i) {
      out.error = true;
      return out;
    }
    // Only now: body.data() + npos would overflow the pointer (UB, clang's UBSan).
    std::size_t units = 0;
    auto [end, ec] = std::from_chars(body.data() + i, body.data() + colon, units);
    if (ec != std::errc() || end != body.data() + colon) {
      out.error = true;
      return out;
    }
    std::size_t start = colon + 1, stop = start;
    if (!skip_utf16(body, stop, units) ||
        (units > 0 && !add_text_packet(out, body.substr(start, stop - start)))) {
      out.error = true;
      return out;
    }
    i = stop;
  }
  return out;
}

DecodedPayload decode_binary(std::string_view body) {
  DecodedPayload out;
  std::size_t i = 0;
  while (i < body.size()) {
    auto kind = static_cast<unsigned char>(body[i++]);
    std::size_t n = 0, digits = 0;
    while (i < body.size() && static_cast<unsigned char>(body[i]) != kLengthEnd) {
      auto d = static_cast<unsigned char>(body[i++]);
      if (d > 9 || ++digits > kMaxLengthDigits) {
        out.error = true;
        return out;
      }
      n = n * 10 + d;
    }
    if ((kind != kTextItem && kind != kBinaryItem) || digits == 0 || i >= body.size() ||
        body.size() - (i + 1) < n) {
      out.error = true;
      return out;
    }
    std::string_view item = body.substr(i + 1, n);
    i += 1 + n;
    bool ok = kind == kTextItem ? add_text_packet(out, item) : !item.empty();
    if (ok && kind == kBinaryItem) {
      if (item[0] != kMessageByte) {
        ok = false;
      } else {
        out.packets.push_back({PacketType::Message, true, item.substr(1)});
      }
    }
    if (!ok) {
      out.error = true;
      return out;
    }
  }
  return out;
}

}  // namespace

std::size_t utf16_length(std::string_view utf8) {
  std::size_t n = 0;
  for (unsigned char c : utf8) {
    if ((c & 0xC0) == 0x80) continue;  // continuation byte
    n += c >= 0xF0 ? 2 : 1;
  }
  return n;
}

void append_text_item(std::string& out, const Frame& frame) {
  std::string text = packet_text(frame);
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, utf16_length(text));
  out.append(digits, end);
  out += ':';
  out += text;
}

void append_binary_item(std::string& out, const Frame& frame) {
  std::string_view body = frame.body();
  out += static_cast<char>(frame.binary ? kBinaryItem : kTextItem);
  append_length_digits(out, body.size());
  out += static_cast<char>(kLengthEnd);
  out.append(body);
}

FramePtr binary_frame(std::string_view data) {
  return make_binary_frame(ws_binary_body(data));
}

DecodedPayload decode_payload(std::string_view body, bool binary) {
  return binary ? decode_binary(body) : decode_text(body);
}

std::string ws_binary_body(std::string_view data) {
  std::string s;
  s.reserve(1 + data.size());
  s += kMessageByte;
  s.append(data);
  return s;
}

bool ws_binary_data(std::string_view frame, std::string_view& data) {
  if (frame.empty() || frame[0] != kMessageByte) return false;
  data = frame.substr(1);
  return true;
}

}  // namespace daheim::engineio::v3
