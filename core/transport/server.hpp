// The libwebsockets context: one vhost per listener (plain or TLS), one
// protocol handling HTTP and WebSocket for the Engine.IO endpoint and the
// plain HTTP routes, the service loop and graceful stop.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "loop/inbox.hpp"
#include "loop/lws_timer_queue.hpp"
#include "transport/engineio_endpoint.hpp"
#include "transport/http1_connection.hpp"
#include "transport/listener.hpp"
#include "transport/loop_prepare.hpp"
#include "transport/lws_reactor.hpp"
#include "transport/refused_connections.hpp"
#include "transport/tls_certificate.hpp"

struct uv_loop_s;
struct ev_loop;

namespace daheim::transport {

struct ServerOptions {
  // At least one; each answers the services it names.
  std::vector<ListenerOptions> listeners{ListenerOptions{}};
  // Connections beyond this many are refused at accept; so are any that would
  // bring the process near its fd limit (lws spins at EMFILE).
  std::size_t max_connections = 15000;
  // Connections accepted in one turn of the loop (engineio.maxAcceptsPerTurn;
  // 0: no limit). lws accepts while the listen socket has more: under a
  // reconnect storm faster than the loop, it would never get to read them.
  // On our own listening sockets the rest wait in the backlog for the next
  // turn; on one lws bound the one over is closed.
  std::size_t max_accepts_per_turn = 256;
  // A connection refused at accept with an answer (the 429 of
  // engineio.maxConnectionsPerAddress) is kept until its client read it:
  // engineio.refusalLingerTime and engineio.refusalReadBytes.
  RefusalLimits refusal;
  // Header space of one HTTP request (request line included), as Node.js's
  // default; lws closes the connection of a request with more.
  std::size_t max_header = 16384;
  std::size_t rx_buffer_size = 512;
  std::chrono::milliseconds drain_time{5000};
  // A polling session without a held GET when the drain starts has this
  // long to fetch its close packet (on a connection already open: the
  // listeners are closed); then it ends as if it had (drainPollingGrace).
  std::chrono::milliseconds drain_polling_grace{1000};
  // The loop lws runs on: its own poll() loop (cost grows with the number of
  // connections), or libev / libuv on epoll through lws's evlib plugins
  // (packages libwebsockets-evlib-ev / -uv), run by us as a foreign loop.
  enum class EventLoop { Poll, Libev, Libuv };
  EventLoop event_loop = EventLoop::Libuv;
  // Who serves Engine.IO long-polling on plain listeners
  // (engineio.pollingHttp): our own HTTP/1.1 handling, which hands
  // everything else to lws (http1_connection.hpp), or lws.
  bool own_polling_http = true;
  Http1Options http1;
};

struct HttpReply {
  unsigned status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<engineio::Header> headers;
};
// Answers a request that its route deferred, once, on the loop. false: the
// client left (or the server stopped) and the answer was dropped.
using RouteAnswer = std::function<bool(HttpReply reply)>;

// A plain HTTP route served beside the Engine.IO endpoint (health, metrics,
// the demo page, push ingress).
struct RouteRequest {
  const HttpRequest& http;
  std::string_view body;
  std::string address;
  // A request header by lower-case name, read on demand.
  std::function<std::optional<std::string>(std::string_view lower_name)> header;
  // Called during the route (at most once): the connection is held and the
  // route's return value ignored; the request is answered through the
  // returned RouteAnswer instead.
  std::function<RouteAnswer()> defer;
};
using Route = std::function<HttpReply(const RouteRequest& request)>;
struct RouteOptions {
  engineio::Method method = engineio::Method::Get;
  std::size_t max_body = 0;  // POST bodies above this get 413
};

class Server {
 public:
  Server(ServerOptions options, EngineIoEndpoint& endpoint, loop::LwsTimerQueue& timers,
         loop::Inbox& inbox);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Creates the context and binds every listener. Returns an error message,
  // empty on success.
  std::string start();
  std::size_t listener_count() const { return listeners_.size(); }
  // "https://[::1]:40123": the address listener `i` is bound to.
  std::string url(std::size_t i) const;
  unsigned services(std::size_t i) const { return listeners_[i].options.services; }
  // Re-reads every TLS listener's certificate and key; one that fails keeps
  // its current certificate (logged). Returns how many failed. On the loop.
  std::size_t reload_certificates();
  // Services until request_stop(), then closes every session gracefully and
  // drains for at most drain_time.
  void run();
  // Async-signal-safe.
  void request_stop();
  // Async-signal-safe and thread-safe: runs the wake hooks on the loop soon.
  void wake();
  // Runs on the loop after every wake() (and spuriously): keep it cheap.
  void add_wake_hook(std::function<void()> hook) { wake_hooks_.push_back(std::move(hook)); }
  // Runs on the loop when the drain begins.
  void on_stopping(std::function<void()> hook) { on_stopping_ = std::move(hook); }
  // The drain also waits (within drain_time) while `busy` is true, e.g. for
  // Redis to take the sessions saved as they closed.
  void hold_drain(std::function<bool()> busy) { drain_busy_ = std::move(busy); }
  lws_context* context() const { return context_; }
  // Descriptors of other services (Redis) watched on the loop; after start().
  loop::Reactor& reactor() { return reactor_; }
  // Serves `path` (exact match) with `route` on the listeners that serve
  // `service`. Set up before run().
  void add_route(Service service, std::string path, Route route, RouteOptions options = {}) {
    routes_.push_back({std::move(path), std::move(route), options, service});
  }
  std::size_t connection_count() const { return connections_ + (http1_ ? http1_->size() : 0); }
  // Our own HTTP/1.1 handling; null when lws serves every request.
  const Http1Connections* http1() const { return http1_.get(); }
  // Requests whose headers overflowed max_header (connection closed).
  uint64_t header_overflows() const { return header_overflows_; }
  uint64_t accept_turn_ends() const { return accept_turn_ends_; }
  bool has_route(std::string_view path) const {
    for (const auto& r : routes_)
      if (r.path == path) return true;
    return false;
  }

  int handle(lws* wsi, int reason, void* user, void* in, std::size_t len);

 private:
  // lws keeps pointers into options and name: never changed once created.
  struct Listener {
    ListenerOptions options;
    std::string name;
    std::string bound_host;
    lws_vhost* vhost = nullptr;
    ssl_ctx_st* ssl_ctx = nullptr;                // TLS: the vhost's, captured at its creation
    std::unique_ptr<TlsCertificate> certificate;  // TLS
    int port = 0;                                 // bound
    int fd = -1;             // the listening socket (own or inherited); -1: lws's own
    lws* adopted = nullptr;  // the raw wsi watching `fd`, until lws destroys it
    bool accepting = true;   // until the drain starts
  };
  static Listener* listener_of(lws* wsi);
  std::string create_vhost(lws_context_creation_info& info, Listener& listener);
  std::string set_up_tls(Listener& listener);
  int handle_http(lws* wsi, ConnectionState* pss);
  int confirm_upgrade(lws* wsi);
  void note_header_overflow();
  bool accept_fd(int fd, const Listener* listener);
  bool accept_turn_full(int listen_fd);
  bool admit_connection(int fd, const Listener* listener);
  bool admit_address(int fd, const Listener* listener);
  void track_connection(lws* wsi);
  void untrack_connection(lws* wsi);
  std::string open_socket(Listener& listener);
  std::string adopt_listener(Listener& listener);
  void accept_inherited(const Listener& listener);
  void stop_accepting();
  bool forget_listener(lws* wsi);
  // One turn of the event loop: blocks until something happens.
  bool draining() const;
  void log_drain_end(std::chrono::steady_clock::time_point started) const;
  void service_once();
  void end_turn();
  void start_writer();

  ServerOptions options_;
  EngineIoEndpoint& endpoint_;
  loop::LwsTimerQueue& timers_;
  loop::Inbox& inbox_;  // attached in start(), drained on wake-ups, closed first
  lws_context* context_ = nullptr;
  ::uv_loop_s* uv_loop_ = nullptr;        // EventLoop::Libuv
  std::unique_ptr<LoopPrepare> prepare_;  // writes queued frames before the loop sleeps
  struct ::ev_loop* ev_loop_ = nullptr;   // EventLoop::Libev
  std::vector<Listener> listeners_;       // sized once in start(): vhosts point into it
  int fd_cap_ = 0;
  std::size_t accepts_this_turn_ = 0;
  uint64_t accept_turn_ends_ = 0;  // turns whose accepts maxAcceptsPerTurn ended
  std::atomic<bool> stop_{false};
  std::atomic<bool> wake_{false};
  LwsReactor reactor_;
  RefusedConnections refused_;  // answered with a 429 at accept, closed once the client read it
  std::vector<std::function<void()>> wake_hooks_;
  struct RouteEntry {
    std::string path;
    Route route;
    RouteOptions options;
    Service service;
  };
  int serve_route(lws* wsi, ConnectionState* pss, const HttpRequest& req, std::size_t index);
  int finish_route_post(lws* wsi, ConnectionState* pss);
  // Runs the route; a deferred request is held until its RouteAnswer.
  int run_route(lws* wsi, ConnectionState* pss, const Route& route, const HttpRequest& req,
                std::string_view body);
  bool answer_held(uint64_t id, HttpReply reply);
  int send_held(lws* wsi, ConnectionState* pss, uint64_t id);
  void drop_held(ConnectionState* pss);
  struct HeldRoute {
    lws* wsi;
    std::optional<HttpReply> reply;
  };
  std::unordered_map<uint64_t, HeldRoute> held_routes_;  // deferred route requests by id
  uint64_t next_held_ = 0;
  // Null once the server is gone (RouteAnswers may outlive it).
  std::shared_ptr<Server*> self_ = std::make_shared<Server*>(this);
  std::vector<RouteEntry> routes_;
  std::function<void()> on_stopping_;
  std::function<bool()> drain_busy_;
  std::unique_ptr<loop::Timer> drain_deadline_;  // while draining
  std::unique_ptr<loop::Timer> drain_check_;
  std::size_t connections_ = 0;
  bool adopting_listener_ = false;
  uint64_t header_overflows_ = 0;
  // Connections counted per address: by fd until lws makes their wsi.
  std::unordered_map<int, std::string> fd_keys_;
  std::unordered_map<lws*, std::string> wsi_keys_;
  std::chrono::steady_clock::time_point last_overflow_log_{};
  std::chrono::steady_clock::time_point last_refusal_log_{};
  // Plain connections on our own HTTP/1.1 handling (own_polling_http).
  std::unique_ptr<Http1Connections> http1_;
  bool own_http(const Listener& listener);
  bool own_http_refused_logged_ = false;
  bool adopting_own_ = false;             // creating the raw wsi that watches one
  std::unordered_set<lws*> own_watches_;  // those wsis: not counted as connections
  void forget_fd(int fd);
  // The request being served (handle_http), read into the same strings each
  // time: no allocation per polling request.
  HttpRequest request_;
};

}  // namespace daheim::transport
