#include "engineio/codec.hpp"

#include "engineio/base64.hpp"

namespace daheim::engineio {

FramePtr make_text_frame(PacketType type, std::string_view data) {
  auto f = std::make_shared<Frame>();
  f->bytes.reserve(kFrameHeadroom + 1 + data.size());
  f->bytes.assign(kFrameHeadroom, '\0');
  f->bytes += static_cast<char>(type);
  f->bytes.append(data);
  return f;
}

FramePtr make_binary_frame(std::string_view data) {
  auto f = std::make_shared<Frame>();
  f->bytes.reserve(kFrameHeadroom + data.size());
  f->bytes.assign(kFrameHeadroom, '\0');
  f->bytes.append(data);
  f->binary = true;
  return f;
}

std::optional<InPacket> decode_packet(std::string_view text) {
  if (text.empty() || text[0] < '0' || text[0] > '6') return std::nullopt;
  return InPacket{static_cast<PacketType>(text[0]), false, text.substr(1)};
}

DecodedPayload decode_payload(std::string_view body) {
  DecodedPayload out;
  decode_payload(body, out);
  return out;
}

void decode_payload(std::string_view body, DecodedPayload& out) {
  out.packets.clear();
  out.binary_storage.clear();
  out.error = false;
  std::size_t start = 0;
  while (true) {
    std::size_t end = body.find(kRecordSeparator, start);
    std::string_view item = body.substr(start, end == std::string_view::npos ? end : end - start);
    if (!item.empty() && item[0] == 'b') {
      auto bytes = base64_decode(item.substr(1));
      if (!bytes) {
        out.error = true;
        return;
      }
      out.binary_storage.push_back(std::move(*bytes));
      out.packets.push_back({PacketType::Message, true, out.binary_storage.back()});
    } else if (auto p = decode_packet(item)) {
      out.packets.push_back(*p);
    } else {
      out.error = true;
      return;
    }
    if (end == std::string_view::npos) return;
    start = end + 1;
  }
}

void append_payload_item(std::string& out, const Frame& frame) {
  if (!out.empty()) out += kRecordSeparator;
  if (frame.binary) {
    out += 'b';
    base64_encode_append(frame.body(), out);
  } else {
    out.append(frame.body());
  }
}

}  // namespace daheim::engineio
