// Which request headers of its handshake a session keeps for its lifetime
// (engineio.handshakeHeaders): what plugins read with the socket header call,
// socket.io's handshake.headers (fetchSockets, the admin UI). A browser sends
// 400-800 bytes of them; idle sessions keep them as long as they live.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace daheim::engineio {

struct HeaderFilter {
  enum class Mode : uint8_t {
    All,              // every header libwebsockets parses
    AllButWebSocket,  // all but the WebSocket handshake's own (the default)
    Listed,           // `names` and origin only
  };
  // The WebSocket handshake's own headers: nothing reads them once the
  // connection is upgraded.
  static constexpr std::array<std::string_view, 5> kWebSocketOwn = {
      "connection", "upgrade", "sec-websocket-key", "sec-websocket-version",
      "sec-websocket-extensions"};

  Mode mode = Mode::AllButWebSocket;
  std::vector<std::string> names;  // Listed: lower-case header names

  // `lower_name`: a lower-case header name.
  bool keeps(std::string_view lower_name) const {
    switch (mode) {
      case Mode::All:
        return true;
      case Mode::AllButWebSocket:
        return std::find(kWebSocketOwn.begin(), kWebSocketOwn.end(), lower_name) ==
               kWebSocketOwn.end();
      case Mode::Listed:
        // socket.io's handshake.xdomain is read from it.
        return lower_name == "origin" ||
               std::find(names.begin(), names.end(), lower_name) != names.end();
    }
    return true;
  }
};

}  // namespace daheim::engineio
