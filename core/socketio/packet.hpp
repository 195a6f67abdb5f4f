// Socket.IO v5 packets (carried in Engine.IO message packets).
//   <type>[<#attachments>-][<nsp>,][<ack id>][<JSON payload>]
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace daheim::socketio {

enum class PacketType : uint8_t {
  Connect = 0,
  Disconnect = 1,
  Event = 2,
  Ack = 3,
  ConnectError = 4,
  BinaryEvent = 5,
  BinaryAck = 6,
};

inline constexpr std::string_view kMainNamespace = "/";

// Largest ack id accepted from a client: JavaScript's Number.MAX_SAFE_INTEGER
// (the reference would silently round anything larger).
inline constexpr uint64_t kMaxAckId = (uint64_t{1} << 53) - 1;

// Event names a client may not send (socket.io-parser RESERVED_EVENTS).
bool is_reserved_event(std::string_view name);

// One decoded packet. The views borrow from the text given to the Decoder
// (or, for binary packets, from the Decoder's own buffer): valid until the
// next call into the Decoder.
struct Packet {
  PacketType type = PacketType::Event;
  std::string_view nsp = kMainNamespace;
  std::optional<uint64_t> id;
  std::string_view data;  // the JSON payload as received; empty when absent
  // Binary packets: the attachments, in order; placeholders in `data`
  // ({"_placeholder":true,"num":N}) index them and are left as they are.
  std::vector<std::string> attachments;
  // EVENT and BINARY_EVENT only: the name (unescaped; a numeric name is kept
  // as its JSON text) and the arguments after it, such that "[" + args_tail
  // is their JSON array, byte for byte as the client wrote them.
  std::string name;
  std::string_view args_tail;

  bool is_event() const { return type == PacketType::Event || type == PacketType::BinaryEvent; }
  bool is_ack() const { return type == PacketType::Ack || type == PacketType::BinaryAck; }
};

}  // namespace daheim::socketio
