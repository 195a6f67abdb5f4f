// Decodes Socket.IO packets from Engine.IO messages, reassembling binary
// packets (a text message announcing N attachments, then N binary messages).
// Strict like socket.io-parser: any error means the connection must close.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <string_view>

#include "socketio/packet.hpp"

namespace daheim::socketio {

inline constexpr std::size_t kDefaultMaxAttachments = 10;

enum class DecodeError : uint8_t {
  None,
  Empty,               // an empty message
  InvalidUtf8,         // the text is not UTF-8
  UnknownType,         // first character not 0-6
  IllegalAttachments,  // malformed attachment count
  TooManyAttachments,  // more than max_attachments
  InvalidAckId,        // ack id above kMaxAckId
  InvalidJson,         // the payload is not one JSON value
  TooDeep,             // JSON nested deeper than json::kMaxDepth
  InvalidPayload,      // valid JSON of the wrong shape for the packet type
  IllegalPlaceholder,  // a placeholder whose num is not in [0, attachments)
  UnexpectedText,      // text while attachments of a binary packet are pending
  UnexpectedBinary,    // binary data with no binary packet pending
};

std::string_view to_string(DecodeError error);

// Decodes one complete text packet. `attachments` receives the announced
// attachment count of a BINARY_EVENT / BINARY_ACK (0 otherwise).
DecodeError decode_text(std::string_view text, std::size_t max_attachments, Packet& out,
                        std::size_t& attachments);

enum class DecodeStatus : uint8_t { Complete, Pending, Failed };

// One per Client. Holds memory only while a binary packet is in flight.
class Decoder {
 public:
  // More than 2^32 - 1 attachments is as good as no limit (maxPayload bounds them first).
  explicit Decoder(std::size_t max_attachments = kDefaultMaxAttachments)
      : max_attachments_(static_cast<std::uint32_t>(
            std::min<std::size_t>(max_attachments, std::numeric_limits<std::uint32_t>::max()))) {}

  // Complete: `out` holds a packet (valid until the next call). Pending: a
  // binary packet waits for attachments. Failed: see error(); the decoder is
  // reset.
  DecodeStatus add_text(std::string_view text, Packet& out);
  DecodeStatus add_binary(std::string_view data, Packet& out);

  DecodeError error() const { return error_; }
  bool pending() const { return binary_ != nullptr && !delivered_; }
  // Frees the buffer of a delivered binary packet (its views die) and any
  // half-received one.
  void reset();

 private:
  struct Binary {
    std::string text;
    Packet packet;
    std::size_t expected = 0;
  };

  DecodeStatus fail(DecodeError error);
  DecodeStatus start_binary(std::string_view text, Packet& out);

  // 16 bytes: one in every Client.
  std::unique_ptr<Binary> binary_;
  std::uint32_t max_attachments_;
  DecodeError error_ = DecodeError::None;
  bool delivered_ = false;  // binary_ only keeps a delivered packet's text alive
};

}  // namespace daheim::socketio
