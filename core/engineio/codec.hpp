// Engine.IO v4 packet and polling-payload codec (pure; no I/O).
#pragma once

#include <list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/packet.hpp"

namespace daheim::engineio {

// A decoded incoming packet. `data` is borrowed from the input (or, for
// binary over polling, from the DecodedPayload that produced it).
struct InPacket {
  PacketType type = PacketType::Message;
  bool binary = false;
  std::string_view data;
};

// Decodes one text packet (`<type><data>`). nullopt: empty or unknown type.
std::optional<InPacket> decode_packet(std::string_view text);

inline constexpr char kRecordSeparator = '\x1e';

struct DecodedPayload {
  std::vector<InPacket> packets;
  // True when decoding stopped at an invalid packet; `packets` holds the
  // valid ones before it, as the reference delivers them.
  bool error = false;
  // A list: stable for the views in `packets`, and no allocation while empty
  // (a deque allocates two blocks at construction, on every POST).
  std::list<std::string> binary_storage;
};

// Splits a polling body on \x1e; `b<base64>` items are binary messages.
DecodedPayload decode_payload(std::string_view body);
// The same into `out`, whose vector keeps its capacity (nothing of what it
// held before stays): no allocation per POST once it has held as many packets.
void decode_payload(std::string_view body, DecodedPayload& out);

// Appends frames as one polling payload: text frames verbatim, binary frames
// as `b` + base64, separated by \x1e.
void append_payload_item(std::string& out, const Frame& frame);

}  // namespace daheim::engineio
