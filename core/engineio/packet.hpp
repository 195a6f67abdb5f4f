// Engine.IO v4 packet types and the shared outgoing frame buffer.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>

namespace daheim::engineio {

enum class PacketType : char {
  Open = '0',
  Close = '1',
  Ping = '2',
  Pong = '3',
  Message = '4',
  Upgrade = '5',
  Noop = '6',
};

// Bytes reserved in front of every outgoing frame so that the transport can
// write protocol headers in place (libwebsockets needs LWS_PRE = 16 bytes).
inline constexpr std::size_t kFrameHeadroom = 16;

// One encoded outgoing Engine.IO packet, immutable once built and shared by
// every session it is sent to (a broadcast is encoded once).
// Layout of `bytes`: kFrameHeadroom zero bytes, then the WebSocket frame body:
// for text `<type char><data>`, for binary the raw data.
struct Frame {
  std::string bytes;
  bool binary = false;

  std::string_view body() const { return std::string_view(bytes).substr(kFrameHeadroom); }
  std::size_t size() const { return bytes.size() - kFrameHeadroom; }
};

using FramePtr = std::shared_ptr<const Frame>;

FramePtr make_text_frame(PacketType type, std::string_view data);
FramePtr make_binary_frame(std::string_view data);

}  // namespace daheim::engineio
