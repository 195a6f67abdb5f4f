// libFuzzer target for the Engine.IO decoders (core/engineio).
//
// The first input byte picks what the rest is:
//   0  one WebSocket text frame: decode_packet;
//   1  one polling body: decode_payload, whose packets re-encoded with append_payload_item
//      must decode to the same packets;
//   2  base64 as a `b` item carries it: base64_decode(x) ok => decode(encode(decoded)) is the
//      decoded bytes, and encode(decoded) is as long as x (padding is required).
//
// Run: ./scripts/fuzz.sh SECONDS, or see meson.build.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/base64.hpp"
#include "engineio/codec.hpp"

namespace {

using namespace daheim::engineio;

void packet(std::string_view text) {
  auto p = decode_packet(text);
  if (p.has_value() != (!text.empty() && text[0] >= '0' && text[0] <= '6')) std::abort();
  if (p && (p->binary || p->data != text.substr(1))) std::abort();
}

std::string encode(const DecodedPayload& payload) {
  std::string out;
  for (const InPacket& p : payload.packets) {
    FramePtr f = p.binary ? make_binary_frame(p.data) : make_text_frame(p.type, p.data);
    append_payload_item(out, *f);
  }
  return out;
}

void payload(std::string_view body) {
  DecodedPayload first = decode_payload(body);
  if (first.error || first.packets.empty()) return;
  std::string body2 = encode(first);
  DecodedPayload again = decode_payload(body2);
  if (again.error || again.packets.size() != first.packets.size()) std::abort();
  for (std::size_t i = 0; i < first.packets.size(); ++i) {
    const InPacket& a = first.packets[i];
    const InPacket& b = again.packets[i];
    if (a.type != b.type || a.binary != b.binary || a.data != b.data) std::abort();
  }
}

void base64(std::string_view text) {
  auto bytes = base64_decode(text);
  if (!bytes) return;
  std::string encoded = base64_encode(*bytes);
  auto again = base64_decode(encoded);
  if (!again || *again != *bytes) std::abort();
  // Padding is required, so only bits after the last byte may differ from x.
  if (encoded.size() != text.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view rest(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      packet(rest);
      break;
    case 1:
      payload(rest);
      break;
    default:
      base64(rest);
  }
  return 0;
}
