// The JSON payload of an encoded Socket.IO packet: the frame text after the
// header "<type>[<n>-][<nsp>,][<id>]".
#pragma once

#include <string_view>

#include "socketio/encoder.hpp"

namespace daheim::cluster {

inline std::string_view packet_json(const socketio::EncodedPacket& packet) {
  std::string_view s = packet.text->body();
  std::size_t i = 1;      // the Engine.IO message type
  if (i < s.size()) ++i;  // the Socket.IO type
  auto digits = [&] {
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
  };
  if (s.size() > 1 && (s[1] == '5' || s[1] == '6')) {
    digits();
    if (i < s.size() && s[i] == '-') ++i;
  }
  if (i < s.size() && s[i] == '/') {
    std::size_t comma = s.find(',', i);
    i = comma == std::string_view::npos ? s.size() : comma + 1;
  }
  digits();
  return s.substr(i);
}

}  // namespace daheim::cluster
