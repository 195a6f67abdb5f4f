// One long-polling request (GET or POST) forwarded to the node that holds its
// session, over a fresh connection to that node's internal listener
// (Connection: close), and the answer read back whole. A held GET stays held
// there; the answer's status, body and headers (CORS included) are the
// owner's. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engineio/handler.hpp"
#include "transport/upstream_socket.hpp"

namespace daheim::transport {

struct ForwardedResponse {
  unsigned status = 0;
  std::string content_type;
  std::vector<engineio::Header> headers;  // end-to-end headers, lower-case names
  std::string body;
};

// Parses a complete or partial HTTP/1.1 response. Returns true once it is
// complete (Content-Length bytes of body, or the connection closed: `eof`);
// `error` is set when it cannot be one.
bool parse_forwarded_response(std::string_view bytes, bool eof, ForwardedResponse& out,
                              bool& error);

class HttpForward {
 public:
  // Null: no answer (the owner refused the connection: `reachable` false;
  // or the answer was cut, malformed, too large or late).
  using Done = std::function<void(const ForwardedResponse* response, bool reachable)>;
  struct Limits {
    loop::Millis connect_timeout{2000};
    loop::Millis answer_timeout{60000};
    std::size_t max_response = 32u << 20;
  };

  HttpForward(loop::Reactor& reactor, loop::TimerQueue& timers, Limits limits, Done done);
  // Sends `request` (a complete HTTP/1.1 request) to `address`.
  bool start(const std::string& address, std::string request);

 private:
  void finish(const ForwardedResponse* response, bool reachable);
  void on_data(std::string_view data);

  Limits limits_;
  Done done_;
  std::string in_;
  bool done_called_ = false;
  loop::Timer answer_timer_;
  UpstreamSocket socket_;
};

}  // namespace daheim::transport
