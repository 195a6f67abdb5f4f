// Engine.IO protocol 3 (socket.io-client 1.x/2.x) framing, for sessions
// opened with EIO=3 when `engineio.allowEIO3` is on (pure; no I/O). Packets
// are the same as in v4; what differs is how they are framed:
//
//   polling, text:    <length>:<packet> per packet, the length counted in
//                     UTF-16 code units ("4€" is "2:4€"); a binary message is
//                     "b4" + base64 ("b" + type + base64); nothing is "0:"
//   polling, binary:  (XHR2 clients, no b64=1) per packet: 0x00 (text) or
//                     0x01 (binary), the length as one byte per decimal digit,
//                     0xFF, then the UTF-8 text or the type byte 0x04 + data
//   WebSocket:        text frames as in v4; a binary frame is 0x04 + data
//
// A v3 session keeps its binary frames in that WebSocket form (binary_frame()
// below), so the WebSocket writer sends them as they are; the polling
// encoders read the data after the type byte.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "engineio/codec.hpp"

namespace daheim::engineio::v3 {

// UTF-16 code units of valid UTF-8 text (a 4-byte sequence counts 2).
std::size_t utf16_length(std::string_view utf8);

// A binary message frame in v3 form: 0x04 + data.
FramePtr binary_frame(std::string_view data);

// Appends one frame (binary ones in v3 form) to a text / binary payload.
void append_text_item(std::string& out, const Frame& frame);
void append_binary_item(std::string& out, const Frame& frame);

// Decodes a POST body: `binary` when it came as application/octet-stream.
// Stops at the first bad item (error set), keeping the packets before it.
DecodedPayload decode_payload(std::string_view body, bool binary);

// A binary WebSocket frame's body: the type byte, then the data.
std::string ws_binary_body(std::string_view data);
// The data of an incoming binary WebSocket frame; false unless it is a
// message (0x04 first).
bool ws_binary_data(std::string_view frame, std::string_view& data);

}  // namespace daheim::engineio::v3
