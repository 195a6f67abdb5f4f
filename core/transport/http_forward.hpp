// One long-polling request (GET or POST) forwarded to the node that holds its
// session, over a keep-alive connection to that node's internal listener
// (from the ForwardPool, or a new one), and the answer read back whole. A held GET stays held
// there; the answer's status, body and headers (CORS included) are the
// owner's. Loop thread only.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engineio/handler.hpp"
#include "transport/forward_pool.hpp"
#include "transport/upstream_socket.hpp"

namespace daheim::transport {

struct ForwardedResponse {
  unsigned status = 0;
  std::string content_type;
  std::vector<engineio::Header> headers;  // end-to-end headers, lower-case names
  std::string body;
  bool keep_alive = false;  // HTTP/1.1 with a Content-Length and no Connection: close
};

// Parses a complete or partial HTTP/1.1 response. Returns true once it is
// complete (Content-Length bytes of body, or the connection closed: `eof`);
// `error` is set when it cannot be one.
bool parse_forwarded_response(std::string_view bytes, bool eof, ForwardedResponse& out,
                              bool& error);

class HttpForward final : public UpstreamSocket::Owner {
 public:
  // Null: no answer (the owner refused the connection: `reachable` false;
  // or the answer was cut, malformed, too large or late).
  using Done = std::function<void(const ForwardedResponse* response, bool reachable)>;
  struct Limits {
    loop::Millis connect_timeout{2000};
    loop::Millis answer_timeout{60000};
    std::size_t max_response = 32u << 20;
  };

  HttpForward(ForwardPool& pool, Limits limits, Done done);
  ~HttpForward() override;
  // Sends `request` (a complete HTTP/1.1 request) to `address`.
  bool start(const std::string& address, std::string request);

 private:
  bool open_new();
  void finish(const ForwardedResponse* response, bool reachable);
  void on_upstream_data(std::string_view data) override;
  void on_upstream_closed(const char* why, bool connected) override;

  ForwardPool& pool_;
  Limits limits_;
  Done done_;
  std::string address_;
  std::string request_;  // kept for one retry on a fresh connection
  std::string in_;
  bool reused_ = false;  // on a pooled connection, not yet retried
  bool done_called_ = false;
  loop::Timer answer_timer_;
  std::unique_ptr<UpstreamSocket> socket_;
};

}  // namespace daheim::transport
