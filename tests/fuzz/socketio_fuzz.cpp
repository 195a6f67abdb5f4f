// libFuzzer target for the Socket.IO decoder (core/socketio/decoder): placeholders,
// attachments, namespaces, ack ids, event names.
//
// The input is a sequence of Engine.IO messages, one per line: a line starting with '@' is a
// binary message (the bytes after the '@'), any other line a text message. They go to one
// Decoder (at most 3 attachments per packet) in order. Every complete packet is re-encoded with
// the encoder and decoded again: type, namespace, id, payload and attachments must survive.
// A failure must name its error and leave nothing pending.
//
// Run: ./scripts/fuzz.sh SECONDS, or see meson.build.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "socketio/decoder.hpp"
#include "socketio/encoder.hpp"
#include "socketio/json_text.hpp"

namespace {

using namespace daheim::socketio;

constexpr std::size_t kMaxAttachments = 3;

bool same(const Packet& a, const Packet& b) {
  return a.type == b.type && a.nsp == b.nsp && a.id == b.id && a.data == b.data &&
         a.attachments == b.attachments && a.name == b.name && a.args_tail == b.args_tail;
}

// Encodes `p` and decodes the frames with a fresh decoder.
void round_trip(const Packet& p) {
  bool binary = p.type == PacketType::BinaryEvent || p.type == PacketType::BinaryAck;
  if (!p.data.empty()) {
    // Placeholders mean something in binary packets only (elsewhere they are plain objects).
    json::Shape shape;
    if (json::scan(p.data, shape, binary, p.attachments.size()) != json::ScanError::None)
      std::abort();  // the decoder let invalid JSON through
  }
  if (p.nsp.empty() || p.nsp[0] != '/') std::abort();
  EncodedPacket enc = encode(p.type, p.nsp, p.id, p.data, p.attachments);
  std::string_view text = enc.text->body();
  if (text.empty() || text[0] != '4') std::abort();
  Decoder d(kMaxAttachments);
  Packet again;
  DecodeStatus st = d.add_text(text.substr(1), again);
  for (const auto& frame : enc.attachments) {
    if (st != DecodeStatus::Pending) std::abort();
    st = d.add_binary(frame->body(), again);
  }
  if (st != DecodeStatus::Complete || !same(p, again)) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view input(reinterpret_cast<const char*>(data), size);
  Decoder decoder(kMaxAttachments);
  Packet packet;
  while (!input.empty()) {
    std::size_t nl = input.find('\n');
    std::string_view line = input.substr(0, nl);
    input = nl == std::string_view::npos ? std::string_view() : input.substr(nl + 1);
    DecodeStatus st = line.starts_with('@') ? decoder.add_binary(line.substr(1), packet)
                                            : decoder.add_text(line, packet);
    if (st == DecodeStatus::Complete) {
      round_trip(packet);
    } else if (st == DecodeStatus::Failed) {
      if (decoder.error() == DecodeError::None || decoder.pending()) std::abort();
    } else if (!decoder.pending()) {
      std::abort();
    }
  }
  return 0;
}
