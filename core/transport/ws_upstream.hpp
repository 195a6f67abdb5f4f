// The WebSocket that carries a client's upgrade to the node holding its
// session (issue 16, "upgrade anywhere"): this node accepted the client's
// WebSocket, and opens one of its own, with the same sid, to the owner's
// internal listener; messages go across unchanged both ways. A small RFC 6455
// client: masked frames out, unmasked frames in, fragments reassembled up to
// a bound, pings answered. Loop thread only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "transport/upstream_socket.hpp"

namespace daheim::transport {

// Encodes one client frame (FIN set) with `mask` applied.
void encode_client_frame(std::string& out, uint8_t opcode, std::string_view payload,
                         const uint8_t mask[4]);

// Incremental decoder of a server's (unmasked) frames.
class WsFrameReader {
 public:
  struct Message {
    uint8_t opcode;  // 1 text, 2 binary, 8 close, 9 ping, 10 pong
    std::string payload;
  };
  explicit WsFrameReader(std::size_t max_message) : max_message_(max_message) {}
  // Appends bytes; complete messages go to `out`. false: a protocol error
  // or a message over the bound.
  bool feed(std::string_view bytes, std::vector<Message>& out);

 private:
  std::size_t max_message_;
  std::string in_;
  std::string partial_;
  uint8_t partial_opcode_ = 0;
};

class WsUpstream final : public UpstreamSocket::Owner {
 public:
  struct Handlers {
    std::function<void()> open;  // the owner accepted the upgrade
    std::function<void(std::string_view data, bool binary)> message;
    // The upstream WebSocket ended or never opened; may destroy this.
    std::function<void(const char* why)> closed;
  };
  struct Limits {
    loop::Millis connect_timeout{2000};
    std::size_t max_message = 1000000;
    std::size_t max_buffered = 16u << 20;
  };

  WsUpstream(loop::Reactor& reactor, loop::TimerQueue& timers, Limits limits, Handlers handlers);
  // Opens `target` ("/socket.io/?EIO=4&transport=websocket&sid=...") on
  // `address`, with `extra_headers` ("Origin: ...\r\n" lines).
  bool start(const std::string& address, const std::string& target,
             const std::string& extra_headers);
  // Queues a message; before the owner accepted, it waits. false: over the
  // buffer bound (the caller closes).
  bool send(std::string_view data, bool binary);
  bool open() const { return open_; }

 private:
  void on_upstream_data(std::string_view data) override { on_data(data); }
  void on_upstream_closed(const char* why, bool) override { fail(why); }
  void on_data(std::string_view data);
  void on_handshake_reply();
  void fail(const char* why);

  Limits limits_;
  Handlers handlers_;
  bool open_ = false;
  bool failed_ = false;
  uint8_t mask_[4] = {0, 0, 0, 0};
  std::string head_;                                 // the reply to the upgrade, until complete
  std::vector<std::pair<std::string, bool>> early_;  // messages sent before it
  std::size_t early_bytes_ = 0;
  WsFrameReader reader_;
  UpstreamSocket socket_;
};

}  // namespace daheim::transport
