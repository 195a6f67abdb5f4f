// Our own HTTP/1.1 handling of a plain connection (engineio.pollingHttp
// "own"): the server accepts it, reads requests into one buffer per
// connection and parses each head once, in place. Engine.IO long-polling
// requests for a session held here are served by the endpoint
// (EngineIoEndpoint::serve_own) and answered with one send, their targets
// decoded as lws decodes them (http1_target); anything else (a WebSocket
// upgrade, other routes, a session elsewhere, an error, whatever the parser
// does not take) is handed to lws with
// the bytes read (lws_adopt_socket_vhost_readbuf), also in the middle of a
// keep-alive connection, and lws answers it as it does today.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "engineio/handler.hpp"
#include "loop/fd_watch.hpp"
#include "loop/timer.hpp"
#include "transport/http1_buffer.hpp"
#include "transport/http1_parser.hpp"
#include "transport/http_util.hpp"

struct lws_vhost;

namespace daheim::transport {

class EngineIoEndpoint;
struct SessionEntry;
class Http1Connections;
class RefusedConnections;

struct Http1Options {
  std::size_t max_header = 16384;       // engineio.maxHttpHeaderSize
  std::size_t max_body = 1000000;       // engineio.maxPayload: a larger POST goes to lws (413)
  loop::Millis idle_timeout{60000};     // engineio.httpIdleTimeout: between requests
  loop::Millis request_timeout{30000};  // engineio.httpRequestTimeout: one request's bytes
};

class Http1Connection final : public loop::FdEvents {
 public:
  Http1Connection(Http1Connections& owner, int fd, lws_vhost* vhost);
  ~Http1Connection() override;
  Http1Connection(const Http1Connection&) = delete;
  Http1Connection& operator=(const Http1Connection&) = delete;

  bool start(loop::Reactor& reactor);
  void on_readable() override;
  void on_writable() override;

  // For the endpoint. One response, written at once; what the kernel does not
  // take is written when the socket can take more. `close`: the connection
  // ends after it (also when the request asked for that).
  void respond(unsigned status, std::string_view content_type, std::string_view body,
               const std::vector<engineio::Header>& headers, bool close = false);
  // The GET being served is held for `entry` (answered by the writer).
  void hold(SessionEntry& entry);
  // The held GET's entry: answered (resumes reading requests) or gone.
  void release_held(bool resume);
  SessionEntry* held() const { return held_; }
  // The held GET's Origin (CORS), kept from its request.
  const std::string* held_origin() const { return has_origin_ ? &origin_ : nullptr; }
  bool closing() const { return closing_; }
  // A POST begun (its body still coming), and its session.
  bool post_begun() const { return post_begun_; }
  bool read_paused() const { return read_paused_; }
  void check_hang_up();
  std::string_view post_sid() const { return post_sid_; }
  // Ends the connection (unanswered) at once.
  void end();
  int fd() const { return fd_; }
  // Retired: no more callbacks; the descriptor closed when `close_fd`.
  void stop(bool close_fd);

  std::size_t slot = 0;        // in the owner's list
  loop::TimePoint deadline{};  // idle or request timeout; max(): none (a held GET)

 private:
  void read_and_serve();
  std::size_t read_limit() const;
  void client_gone();
  void read_available();
  void process();
  bool serve_next();
  bool build_request(HttpRequest& req) const;
  void hand_over();
  void consume(std::size_t n);
  bool flush_out();
  void close_after_answer();

  Http1Connections& owner_;
  int fd_;
  lws_vhost* vhost_;
  std::unique_ptr<loop::FdWatch> watch_;
  Http1Buffer in_;            // bytes read and not yet served
  std::size_t scan_ = 0;      // where find_head_end goes on
  std::size_t head_end_ = 0;  // of the request at the front; 0: not complete yet
  // The front request's end (head and body) once its head was parsed with its
  // body still coming; 0: no such request.
  std::size_t front_end_ = 0;
  std::string out_;       // answer bytes the kernel did not take yet
  std::string origin_;    // the held GET's Origin
  std::string post_sid_;  // the begun POST's session
  SessionEntry* held_ = nullptr;
  bool has_origin_ = false;
  bool close_after_ = false;  // the answer being written ends the connection
  bool close_asked_ = false;  // the request said Connection: close
  bool refused_ = false;      // the answer refuses its request, which may be unread
  bool post_begun_ = false;   // the POST at the front was begun (its body is coming)
  int minor_ = 1;             // the request's HTTP/1.minor
  bool closing_ = false;
  bool eof_ = false;
  bool read_paused_ = false;  // buffer full behind a held GET or an unsent answer
  bool lingering_ = false;    // closed through RefusedConnections
};

class Http1Connections {
 public:
  Http1Connections(EngineIoEndpoint& endpoint, loop::Reactor& reactor, loop::TimerQueue& timers,
                   Http1Options options);
  ~Http1Connections();

  // Whether a request for `path` goes to lws anyway (a plain HTTP route).
  void set_route_check(std::function<bool(std::string_view path)> is_route) {
    is_route_ = std::move(is_route);
  }
  // Called with the descriptor of a connection that ended on our side (not
  // handed over): the server forgets its per-address count.
  void on_closed(std::function<void(int fd)> hook) { on_closed_ = std::move(hook); }
  // Where a connection that ends after its answer lingers (the server's
  // RefusedConnections); null: it is shut and closed.
  void set_refusals(RefusedConnections* refusals) { refusals_ = refusals; }
  RefusedConnections* refusals() const { return refusals_; }
  // Runs before a connection's bytes are read (the server: due timers).
  void before_read(std::function<void()> hook) { before_read_ = std::move(hook); }
  void run_before_read() {
    if (before_read_) before_read_();
  }
  // Takes an accepted connection; false: the loop refused it (closed).
  bool adopt(int fd, lws_vhost* vhost);
  // Everything is handed to lws from now on (the drain).
  void hand_over_all() { hand_over_all_ = true; }
  bool handing_over_all() const { return hand_over_all_; }
  std::size_t size() const { return list_.size(); }
  uint64_t served() const { return served_; }
  uint64_t handed_over() const { return handed_over_; }

  // For the connections.
  const Http1Options& options() const { return options_; }
  EngineIoEndpoint& endpoint() { return endpoint_; }
  loop::Reactor& reactor() { return reactor_; }
  loop::TimePoint now() const;
  bool is_route(std::string_view path) const { return is_route_ && is_route_(path); }
  void count_served() { ++served_; }
  void count_handed_over() { ++handed_over_; }
  // Ends `c` at the end of the turn (its descriptor closed unless handed over).
  void retire(Http1Connection& c, bool closed_here);

 private:
  void sweep();
  void bury();

  EngineIoEndpoint& endpoint_;
  loop::Reactor& reactor_;
  loop::TimerQueue& timers_;
  Http1Options options_;
  std::function<bool(std::string_view)> is_route_;
  std::function<void(int)> on_closed_;
  std::function<void()> before_read_;
  RefusedConnections* refusals_ = nullptr;
  std::vector<std::unique_ptr<Http1Connection>> list_;
  std::vector<std::unique_ptr<Http1Connection>> graveyard_;
  loop::Timer sweep_timer_;
  loop::Timer bury_timer_;
  uint64_t served_ = 0;
  uint64_t handed_over_ = 0;
  bool hand_over_all_ = false;
};

}  // namespace daheim::transport
