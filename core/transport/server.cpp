#include "transport/server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define EV_COMPAT3 0
#include <ev.h>
#include <uv.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "log/log.hpp"
#include "transport/listen_socket.hpp"
#include "transport/socket_address.hpp"
#include "transport/tls_session.hpp"
#include "transport/uv_poll_rearm.hpp"

namespace daheim::transport {
namespace {

constexpr int kReservedFds = 64;
constexpr std::size_t kMaxSendChunk = std::size_t(16) << 20;

int callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  auto* server = static_cast<Server*>(lws_context_user(lws_get_context(wsi)));
  if (!server) return lws_callback_http_dummy(wsi, reason, user, in, len);
  return server->handle(wsi, reason, user, in, len);
}

// lws 4.1 drops a request whose headers overflow max_http_header_data with
// no answer: it logs "Ran out of header data space" and closes the
// connection right away, on this thread. The log line is our only notice;
// the close that follows counts it (note_header_overflow).
thread_local bool t_header_overflow = false;

void lws_log(int level, const char* line) {
  std::string_view s(line);
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.remove_suffix(1);
  if (s.find("Ran out of header data space") != std::string_view::npos) {
    t_header_overflow = true;
    return;
  }
  // lws 4.1.6 logs every lws_adopt_socket_vhost_readbuf() as an error: the
  // hand-over of our own HTTP/1.1 handling (http1_connection), not one.
  if (s == "adopt_socket_readbuf: calling service") return;
  if (level & LLL_ERR)
    log::error("libwebsockets: {}", s);
  else
    log::warning("libwebsockets: {}", s);
}

int fd_callback(lws* wsi, lws_callback_reasons reason, void* user, void* in, std::size_t len) {
  return LwsReactor::callback(wsi, reason, user, in, len);
}

lws_protocols g_protocols[] = {
    {"engine.io", callback, sizeof(ConnectionState), 0, 0, nullptr, 0},
    {LwsReactor::kProtocol, fd_callback, 0, 0, 0, nullptr, 0},
    {nullptr, nullptr, 0, 0, 0, nullptr, 0},
};

int process_fd_limit() {
  rlimit rl{};
  if (getrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return 1 << 20;
  return static_cast<int>(std::min<rlim_t>(rl.rlim_cur, 1 << 24));
}

}  // namespace

Server::Server(ServerOptions options, EngineIoEndpoint& endpoint, loop::LwsTimerQueue& timers,
               loop::Inbox& inbox)
    : options_(std::move(options)),
      endpoint_(endpoint),
      timers_(timers),
      inbox_(inbox),
      refused_(reactor_, timers_, options_.refusal) {}

Server::~Server() {
  *self_ = nullptr;
  refused_.clear();             // watched by lws
  http1_.reset();               // watched by lws
  endpoint_.stop_forwarding();  // its connections are watched by lws
  if (prepare_) prepare_->stop();
  inbox_.close();
  timers_.detach();
  // info.pcontext: lws sets context_ to null once the context is freed.
  if (context_) lws_context_destroy(context_);
  if (uv_loop_) {
    // On libuv lws closes its handles asynchronously: let the loop finish
    // that, then complete the destruction.
    uv_run(uv_loop_, UV_RUN_DEFAULT);
    if (context_) lws_context_destroy(context_);
    uv_run(uv_loop_, UV_RUN_DEFAULT);
    uv_rearm::forget(uv_loop_);
    uv_loop_close(uv_loop_);
    delete uv_loop_;
  }
  if (ev_loop_) ev_loop_destroy(ev_loop_);
}

std::string Server::start() {
  lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
  int limit = process_fd_limit();
  fd_cap_ = std::max(limit - kReservedFds, 16);
  g_protocols[0].rx_buffer_size = options_.rx_buffer_size;
  // lws caps each send() at tx_packet_size, or at rx_buffer_size when that
  // is 0, and copies the rest into its own buffer to send one such chunk per
  // POLLOUT: with a 512-byte receive buffer a 20 KB batch took 40 turns.
  // Let the kernel take what it can at once.
  g_protocols[0].tx_packet_size = kMaxSendChunk;
  lws_context_creation_info info;
  std::memset(&info, 0, sizeof info);
  info.protocols = g_protocols;
  info.user = this;
  info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_VALIDATE_UTF8;
  for (const auto& l : options_.listeners)
    if (l.tls()) info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
  info.max_http_header_data =
      static_cast<unsigned short>(std::min<std::size_t>(options_.max_header, 65535));
  info.timeout_secs = 30;
  info.keepalive_timeout = 60;
  info.pcontext = &context_;
  // No lws "validity" timer per connection: Engine.IO's heartbeat already
  // finds dead peers, and each of those timers is an insert into lws's
  // sorted list on every message received.
  static const lws_retry_bo_t no_validity_checks{};
  info.retry_and_idle_policy = &no_validity_checks;
  // Our own loop, handed to lws as a "foreign" one: we run it turn by turn
  // (service_once), and lws installs no signal handlers of its own.
  void* foreign_loops[1] = {nullptr};
  const char* loop_name = "poll";
  if (options_.event_loop == ServerOptions::EventLoop::Libuv) {
    uv_loop_ = new uv_loop_t;
    uv_loop_init(uv_loop_);
    foreign_loops[0] = uv_loop_;
    info.options |= LWS_SERVER_OPTION_LIBUV;
    loop_name = "libuv";
    // lws's POLLIN/POLLOUT changes re-arm the poll handle in place (one
    // epoll_ctl, or none) instead of a remove and add each.
    log::debug("libuv {}: poll handles re-armed in place: {}", uv_version_string(),
               uv_rearm::active() ? "yes" : "no (another libuv version)");
  } else if (options_.event_loop == ServerOptions::EventLoop::Libev) {
    ev_loop_ = ev_loop_new(static_cast<unsigned>(EVBACKEND_EPOLL) | EVFLAG_NOENV);
    if (!ev_loop_) return "cannot create the libev event loop";
    foreign_loops[0] = ev_loop_;
    info.options |= LWS_SERVER_OPTION_LIBEV;
    loop_name = "libev";
    // Our timers run on an ev_timer of their own there (LwsTimerQueue):
    // lws 4.1.6's libev glue cannot move its own timer earlier.
  }
  if (foreign_loops[0]) info.foreign_loops = foreign_loops;
  context_ = lws_create_context(&info);
  if (!context_)
    return std::string("cannot create the libwebsockets context with the ") + loop_name +
           " event loop" +
           (foreign_loops[0] ? " (is its libwebsockets-evlib package installed?)" : "");
  listeners_.clear();
  listeners_.reserve(options_.listeners.size());
  for (const auto& l : options_.listeners) listeners_.push_back(Listener{l});
  for (Listener& listener : listeners_)
    if (std::string err = create_vhost(info, listener); !err.empty()) return err;
  reactor_.attach(listeners_.empty() ? nullptr : listeners_.front().vhost);
  if (options_.own_polling_http) {
    http1_ = std::make_unique<Http1Connections>(endpoint_, reactor_, timers_, options_.http1);
    http1_->set_route_check([this](std::string_view path) { return has_route(path); });
    http1_->on_closed([this](int fd) { forget_fd(fd); });
    http1_->set_refusals(&refused_);
    // libuv serves a turn's I/O before its timers: a request for a session
    // past its heartbeat deadline finds it closed, as on lws's slower path.
    http1_->before_read([this] { timers_.expire_due(); });
  }
  timers_.attach(context_, ev_loop_);
  start_writer();
  endpoint_.attach(context_);
  inbox_.attach(context_);
  return {};
}

// One vhost per listener; `info` holds the context's settings, the vhost's
// own are set here. The vhost's user pointer is its Listener.
std::string Server::create_vhost(lws_context_creation_info& info, Listener& listener) {
  const ListenerOptions& o = listener.options;
  std::string where = o.host + ":" + std::to_string(o.port);
  // lws matches TLS SNI and Host headers against the names of the vhosts on
  // the same port number: listener_of() does not depend on it.
  listener.name = "listener " + std::to_string(&listener - listeners_.data());
  listener.bound_host = o.host;
  info.vhost_name = listener.name.c_str();
  info.user = &listener;
  if (std::string err = open_socket(listener); !err.empty()) return err;
  info.port = listener.fd >= 0 ? CONTEXT_PORT_NO_LISTEN_SERVER : o.port;
  info.iface = o.host.empty() ? nullptr : o.host.c_str();
  info.options &= ~static_cast<uint64_t>(LWS_SERVER_OPTION_DISABLE_IPV6);
  if (o.host.find(':') == std::string::npos) info.options |= LWS_SERVER_OPTION_DISABLE_IPV6;
  info.ssl_cert_filepath = o.tls() ? o.tls_cert.c_str() : nullptr;
  info.ssl_private_key_filepath = o.tls() ? o.tls_key.c_str() : nullptr;
  // HTTP/1.1 only: the endpoint speaks HTTP/1.1 long-polling and RFC 6455.
  info.alpn = o.tls() ? "http/1.1" : nullptr;
  listener.vhost = lws_create_vhost(context_, &info);
  info.vhost_name = nullptr;
  info.iface = nullptr;
  if (!listener.vhost) return "cannot listen on " + where;
  if (o.tls())
    if (std::string err = set_up_tls(listener); !err.empty()) return err;
  if (listener.fd >= 0) return adopt_listener(listener);
  listener.port = lws_get_vhost_listen_port(listener.vhost);
  if (listener.port <= 0) return "cannot listen on " + where;
  return {};
}

// The listening socket: systemd's or the workers' supervisor's, else our
// own on an IP address (closed when the drain starts: stop_accepting). lws
// binds the others itself (an interface name): those listen until exit.
std::string Server::open_socket(Listener& listener) {
  const ListenerOptions& o = listener.options;
  if (o.inherited_fd >= 0 || !is_ip_address(o.host)) {
    listener.fd = o.inherited_fd;
    return {};
  }
  listener.fd = open_listen_socket(o.host, o.port, {});
  if (listener.fd >= 0) return {};
  std::string where = (o.host.find(':') == std::string::npos ? o.host : "[" + o.host + "]") + ":" +
                      std::to_string(o.port);
  return "cannot listen on " + where + ": " + std::strerror(errno);
}

// lws has loaded the files into the vhost's SSL_CTX already; our copy is the
// one handshakes present, and the one SIGHUP replaces.
std::string Server::set_up_tls(Listener& listener) {
  const ListenerOptions& o = listener.options;
  if (!listener.ssl_ctx) return "cannot set up TLS on " + o.host + ":" + std::to_string(o.port);
  listener.certificate = std::make_unique<TlsCertificate>();
  std::string error;
  if (!listener.certificate->load(o.tls_cert, o.tls_key, error)) return error;
  listener.certificate->attach(listener.ssl_ctx);
  if (!configure_tls_sessions(listener.ssl_ctx, o))
    return "cannot set up TLS sessions on " + o.host + ":" + std::to_string(o.port);
  return {};
}

// lws may move an HTTP connection to another vhost on the same port number
// (by its Host header; every inherited socket has the same "port"), so each
// connection is marked with the listener that accepted it.
Server::Listener* Server::listener_of(lws* wsi) {
  if (auto* accepted = static_cast<Listener*>(lws_get_opaque_user_data(wsi))) return accepted;
  lws_vhost* vhost = lws_get_vhost(wsi);
  return vhost ? static_cast<Listener*>(lws_vhost_user(vhost)) : nullptr;
}

std::string Server::url(std::size_t i) const {
  const Listener& l = listeners_[i];
  const std::string& h = l.bound_host;
  std::string host = h.find(':') == std::string::npos ? h : "[" + h + "]";
  return (l.options.tls() ? "https://" : "http://") + host + ":" + std::to_string(l.port);
}

std::size_t Server::reload_certificates() {
  std::size_t failed = 0;
  for (std::size_t i = 0; i < listeners_.size(); ++i) {
    const Listener& l = listeners_[i];
    if (!l.options.tls()) continue;
    std::string error;
    if (l.certificate->load(l.options.tls_cert, l.options.tls_key, error)) {
      log::notice("listener {} ({}): certificate reloaded from {}", i, url(i), l.options.tls_cert);
    } else {
      ++failed;
      log::error("listener {} ({}): keeping the current certificate: {}", i, url(i), error);
    }
  }
  return failed;
}

void Server::request_stop() {
  stop_.store(true);
  if (context_) lws_cancel_service(context_);
}

void Server::wake() {
  if (context_) lws_cancel_service(context_);
}

// Frames queued during a turn of the loop are written at its end, several to
// a socket in one write (WsWriter): after the events of the turn, and before
// the loop sleeps (libuv and libev prepare watchers; lws's poll() loop runs
// timers just before it waits, so there the timer queue flushes after them).
void Server::start_writer() {
  auto flush = [this] {
    accepts_this_turn_ = 0;
    end_turn();
  };
  if (uv_loop_) {
    prepare_ = std::make_unique<LoopPrepare>(flush);
    prepare_->start(uv_loop_);
  } else if (ev_loop_) {
    prepare_ = std::make_unique<LoopPrepare>(flush);
    prepare_->start(ev_loop_);
  } else {
    timers_.set_after_expire(flush);
  }
}

void Server::service_once() {
  if (uv_loop_)
    uv_run(uv_loop_, UV_RUN_ONCE);
  else if (ev_loop_)
    ev_run(ev_loop_, EVRUN_ONCE);
  else
    lws_service(context_, 0);
  accepts_this_turn_ = 0;
  end_turn();
}

// The writable events known without epoll (libuv), then what the turn queued
// for writing; answers the writer completes may know more writable sockets,
// and the loop must not wait with them pending.
void Server::end_turn() {
  uv_rearm::deliver_writable();
  endpoint_.flush();
  uv_rearm::deliver_writable();
}

bool Server::draining() const {
  return endpoint_.session_count() > 0 || (drain_busy_ && drain_busy_());
}

void Server::run() {
  while (!stop_.load()) service_once();
  auto started = std::chrono::steady_clock::now();
  stop_accepting();
  if (on_stopping_) on_stopping_();
  endpoint_.close_all(engineio::CloseReason::ServerShuttingDown);
  endpoint_.hurry_unpolled(options_.drain_polling_grace);
  drain_deadline_ = std::make_unique<loop::Timer>(timers_, [this] {
    wake_.store(true);
    lws_cancel_service(context_);
  });
  drain_deadline_->arm(options_.drain_time);
  // lws_service() only returns on an event: look every few ms whether the
  // last session has gone.
  drain_check_ = std::make_unique<loop::Timer>(timers_, [this] {
    if (!draining())
      lws_cancel_service(context_);
    else
      drain_check_->arm(loop::Millis(10));
  });
  drain_check_->arm(loop::Millis(10));
  while (draining() && !wake_.load()) service_once();
  drain_deadline_.reset();
  drain_check_.reset();
  log_drain_end(started);
}

void Server::log_drain_end(std::chrono::steady_clock::time_point started) const {
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  if (!draining()) {
    log::notice("stopping: drained in {} ms", took.count());
    return;
  }
  log::warning("stopping: drainTime ({} ms) is over with {} sessions open{}",
               options_.drain_time.count(), endpoint_.session_count(),
               drain_busy_ && drain_busy_() ? " and writes pending" : "");
}

// Our own listening socket, a worker's or systemd's: lws cannot take over a
// listening socket, so it only watches it (as a raw file) and we accept and
// hand each connection over.
std::string Server::adopt_listener(Listener& listener) {
  int fd = listener.fd;
  sockaddr_storage addr{};
  socklen_t len = sizeof addr;
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    return "the listening socket (fd " + std::to_string(fd) + ") is not a socket";
  char host[INET6_ADDRSTRLEN] = "?";
  if (addr.ss_family == AF_INET) {
    auto* a = reinterpret_cast<sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    listener.port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    listener.port = ntohs(a->sin6_port);
  }
  listener.bound_host = host;
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  lws_sock_file_fd_type u;
  u.filefd = fd;
  adopting_listener_ = true;  // not a connection: WSI_CREATE does not count it
  listener.adopted =
      lws_adopt_descriptor_vhost(listener.vhost, LWS_ADOPT_RAW_FILE_DESC, u, "engine.io", nullptr);
  adopting_listener_ = false;
  if (!listener.adopted) return "cannot watch the listening socket (fd " + std::to_string(fd) + ")";
  return {};
}

// The drain accepts nothing: a client that reconnects at once reaches
// another node (or, in workers mode, another worker of the port's
// SO_REUSEPORT group), or is refused by the kernel, instead of being accepted
// here and answered 503 until the drain ends. Closing the raw wsi watching a
// listening socket closes it (lws_context_deprecate() would close lws's own,
// but lws 4.1.6 reads the freed wsi after closing it on libev and poll()).
// systemd keeps its own copy of an inherited socket, so with socket
// activation new connections wait in the backlog for the next process.
// Requests on connections accepted before still get 503 "Server shutting
// down".
void Server::stop_accepting() {
  for (Listener& listener : listeners_) {
    lws* wsi = listener.adopted;
    if (!wsi || !listener.accepting) continue;
    listener.accepting = false;
    // Our own socket refuses connections from now on (libuv closes the
    // descriptor a turn later); an inherited one is shared: left as it is.
    if (listener.fd != listener.options.inherited_fd) shutdown(listener.fd, SHUT_RDWR);
    lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_SYNC);
  }
}

// The listening socket's wsi is going: true when `wsi` was one.
bool Server::forget_listener(lws* wsi) {
  for (Listener& listener : listeners_)
    if (listener.adopted == wsi) {
      listener.adopted = nullptr;
      return true;
    }
  return false;
}

// lws_adopt_socket_vhost() starts TLS itself on a TLS listener's vhost. As
// lws's own accept loop: TCP_NODELAY on each connection. At
// engineio.maxAcceptsPerTurn the turn's accepts end and the rest of the
// backlog waits, connected, for the next turn (the socket stays readable):
// no client is turned away for arriving with many others.
void Server::accept_inherited(const Listener& listener) {
  for (;;) {
    if (accept_turn_full(listener.fd)) return;
    int fd = accept4(listener.fd, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) return;  // EAGAIN: drained; EMFILE and the like: try again later
    ++accepts_this_turn_;
    if (!admit_connection(fd, &listener)) {
      close(fd);
      return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    // Our own HTTP/1.1 handling on plain listeners that serve Engine.IO
    // (it hands lws what it does not serve); TLS stays on lws.
    if (own_http(listener)) {
      adopting_own_ = true;
      http1_->adopt(fd, listener.vhost);
      adopting_own_ = false;
      continue;
    }
    if (!lws_adopt_socket_vhost(listener.vhost, fd)) close(fd);
  }
}

// True once this turn accepted engineio.maxAcceptsPerTurn connections;
// counted when `listen_fd` has more waiting (-1: lws's accept loop, whose
// next connection is in hand).
bool Server::accept_turn_full(int listen_fd) {
  if (options_.max_accepts_per_turn == 0 || accepts_this_turn_ < options_.max_accepts_per_turn)
    return false;
  pollfd waiting{listen_fd, POLLIN, 0};
  if (listen_fd < 0 || (poll(&waiting, 1, 0) == 1 && (waiting.revents & POLLIN)))
    ++accept_turn_ends_;
  return true;
}

// A connection lws's own accept loop took (a listener lws bound itself, on an
// interface name): lws goes on accepting while more wait, so refusing the one
// over engineio.maxAcceptsPerTurn ends its loop and the connections accepted
// get read (the refused client retries).
bool Server::accept_fd(int fd, const Listener* listener) {
  if (accept_turn_full(-1)) return false;
  ++accepts_this_turn_;
  return admit_connection(fd, listener);
}

// engineio.maxConnections and the fd cap, then the address's limits.
bool Server::admit_connection(int fd, const Listener* listener) {
  // fds are handed out lowest first, so a new fd's number bounds how many are
  // open: refusing high fds keeps the process clear of EMFILE.
  if (connection_count() < options_.max_connections && fd < fd_cap_)
    return admit_address(fd, listener);
  auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ >= std::chrono::seconds(1)) {
    last_refusal_log_ = now;
    log::warning("connection refused: {} connections open (maxConnections {}), fd {} (limit {})",
                 connection_count(), options_.max_connections, fd, fd_cap_);
  }
  return false;
}

// The request in hand overflowed maxHttpHeaderSize and lws is closing its
// connection. lws 4.1 has no answer for it, and it has shut the socket's
// write side before any callback of ours runs, so no 431 can be sent: the
// client sees the connection closed. Counted and logged instead.
void Server::note_header_overflow() {
  ++header_overflows_;
  auto now = std::chrono::steady_clock::now();
  if (now - last_overflow_log_ < std::chrono::seconds(1)) return;
  last_overflow_log_ = now;
  log::warning("request headers over maxHttpHeaderSize ({} bytes): connection closed ({} so far)",
               options_.max_header, header_overflows_);
}

namespace {

std::string peer_of_fd(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return {};
  char buf[INET6_ADDRSTRLEN] = {0};
  if (ss.ss_family == AF_INET)
    inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(&ss)->sin_addr, buf, sizeof buf);
  else if (ss.ss_family == AF_INET6)
    inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(&ss)->sin6_addr, buf, sizeof buf);
  return buf;
}

}  // namespace

// engineio.maxConnectionsPerAddress (proxies and exempt addresses aside). A
// refused connection on a plain listener gets a 429 before it is closed (a
// graceful close: RefusedConnections).
bool Server::admit_address(int fd, const Listener* listener) {
  std::string peer = peer_of_fd(fd);
  const EndpointOptions& o = endpoint_.options();
  if (peer.empty() || o.trusted_proxies.contains(peer)) return true;
  std::string key = endpoint_.limit_key(peer);
  if (key.empty()) return true;
  AddressLimits& limits = endpoint_.address_limits();
  if (auto stale = fd_keys_.find(fd); stale != fd_keys_.end()) {
    limits.remove_connection(stale->second, timers_.now());
    fd_keys_.erase(stale);
  }
  if (limits.add_connection(key, timers_.now()) == AddressLimits::Verdict::Admit) {
    fd_keys_.emplace(fd, std::move(key));
    return true;
  }
  if (listener && !listener->options.tls()) {
    static constexpr std::string_view kRefusal =
        "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n"
        "content-length: 61\r\nconnection: close\r\n\r\n"
        R"({"code":4,"message":"Too many connections from this address"})";
    refused_.refuse(fd, kRefusal);
  }
  auto now = std::chrono::steady_clock::now();
  if (now - last_refusal_log_ >= std::chrono::seconds(1)) {
    last_refusal_log_ = now;
    log::warning("connection refused: {} has maxConnectionsPerAddress ({}) open", key,
                 limits.options().max_connections);
  }
  return false;
}

// Whether our own HTTP/1.1 handling takes `listener`'s connections: plain
// listeners that serve Engine.IO. Not when a request it hands to lws could
// carry a body it has read already: lws 4.1.6 takes the bytes read with a
// connection (lws_adopt_socket_vhost_readbuf) into the buffer its pipelined
// requests come from, and hands a body from there from the wrong place (the
// bug engineio-raw's pipelining test shows), so a forwarded POST (sessions
// routed across nodes) or a plugin's POST route would get a broken body.
bool Server::own_http(const Listener& listener) {
  if (!http1_ || listener.options.tls() || !(listener.options.services & kServiceSocketIo))
    return false;
  const char* why = nullptr;
  if (endpoint_.forwarder()) why = "sessions are routed across nodes (their POSTs are forwarded)";
  for (const RouteEntry& r : routes_)
    if (r.options.method == engineio::Method::Post && (r.service & listener.options.services))
      why = "the listener serves a POST route";
  if (!why) return true;
  if (!own_http_refused_logged_) {
    own_http_refused_logged_ = true;
    log::notice(
        "engineio.pollingHttp \"own\": {} ({}), so libwebsockets serves it: lws 4.1.6 "
        "cannot take a request body read before the hand-over",
        listener.name, why);
  }
  return false;
}

// A connection our own HTTP/1.1 handling closed (never handed to lws).
void Server::forget_fd(int fd) {
  auto it = fd_keys_.find(fd);
  if (it == fd_keys_.end()) return;
  endpoint_.address_limits().remove_connection(it->second, timers_.now());
  fd_keys_.erase(it);
}

// A connection admitted by admit_address() is counted until its wsi goes.
void Server::track_connection(lws* wsi) {
  auto it = fd_keys_.find(lws_get_socket_fd(wsi));
  if (it == fd_keys_.end()) return;
  wsi_keys_.emplace(wsi, std::move(it->second));
  fd_keys_.erase(it);
}

void Server::untrack_connection(lws* wsi) {
  auto it = wsi_keys_.find(wsi);
  if (it == wsi_keys_.end()) return;
  endpoint_.address_limits().remove_connection(it->second, timers_.now());
  wsi_keys_.erase(it);
}

// Only what the request's listener serves; everything else is 404.
int Server::handle_http(lws* wsi, ConnectionState* pss) {
  const Listener* listener = listener_of(wsi);
  unsigned services = listener ? listener->options.services : 0;
  // Not re-entered: nothing below runs lws's service, and no handler keeps `req`.
  HttpRequest& req = request_;
  read_request(wsi, options_.max_header, req);
  // Routes first: the client script lives under the Engine.IO path.
  for (std::size_t i = 0; i < routes_.size(); ++i)
    if (routes_[i].path == req.path && (routes_[i].service & services))
      return serve_route(wsi, pss, req, i);
  if ((services & kServiceSocketIo) && endpoint_.matches(req.path))
    return endpoint_.on_http(wsi, pss, req);
  return send_response(wsi, 404, "text/plain", "Not Found", {});
}

int Server::confirm_upgrade(lws* wsi) {
  const Listener* listener = listener_of(wsi);
  HttpRequest req = read_request(wsi, options_.max_header);
  if (!listener || !(listener->options.services & kServiceSocketIo) ||
      !endpoint_.matches(req.path)) {
    send_response(wsi, 404, "text/plain", "Not Found", {}, true);
    return 1;
  }
  return endpoint_.on_confirm_upgrade(wsi);
}

namespace {

RouteRequest route_request(lws* wsi, const HttpRequest& req, std::string_view body) {
  return {req, body, peer_address(wsi),
          [wsi](std::string_view name) { return read_header_named(wsi, name); }};
}

int reply(lws* wsi, HttpReply r) {
  r.headers.emplace_back("cache-control", "no-store");
  return send_response(wsi, r.status, r.content_type, r.body, r.headers);
}

}  // namespace

int Server::serve_route(lws* wsi, ConnectionState* pss, const HttpRequest& req, std::size_t index) {
  const RouteEntry& entry = routes_[index];
  if (req.method != entry.options.method) {
    const char* allow = entry.options.method == engineio::Method::Post ? "POST" : "GET";
    return send_response(wsi, 405, "text/plain", "Method Not Allowed", {{"allow", allow}});
  }
  if (entry.options.method != engineio::Method::Post)
    return run_route(wsi, pss, entry.route, req, {});
  std::size_t len = 0;
  switch (request_body_length(wsi, entry.options.max_body, len)) {
    case BodyLength::TooLarge:
      return send_response(wsi, 413, "application/json", R"({"error":"payload_too_large"})", {},
                           true);
    case BodyLength::LengthRequired:
      return send_response(wsi, 411, {}, {}, {}, true);
    case BodyLength::Ok:
      break;
  }
  pss->role = Role::RoutePost;
  pss->route = static_cast<uint16_t>(index);
  pss->buffer.get();  // the body goes here
  if (len == 0) return finish_route_post(wsi, pss);
  return 0;
}

int Server::finish_route_post(lws* wsi, ConnectionState* pss) {
  pss->role = Role::None;
  std::string body = pss->buffer.take();
  HttpRequest req = read_request(wsi, options_.max_header);
  return run_route(wsi, pss, routes_[pss->route].route, req, body);
}

int Server::run_route(lws* wsi, ConnectionState* pss, const Route& route, const HttpRequest& req,
                      std::string_view body) {
  RouteRequest request = route_request(wsi, req, body);
  std::optional<uint64_t> held;
  request.defer = [this, wsi, &held]() -> RouteAnswer {
    if (!held) {
      held = ++next_held_;
      held_routes_.emplace(*held, HeldRoute{wsi, std::nullopt});
    }
    return [self = self_, id = *held](HttpReply r) {
      return *self != nullptr && (*self)->answer_held(id, std::move(r));
    };
  };
  HttpReply answer = route(request);
  if (!held) return reply(wsi, std::move(answer));
  auto it = held_routes_.find(*held);
  if (it != held_routes_.end() && it->second.reply) return send_held(wsi, pss, *held);
  pss->role = Role::RouteHeld;
  pss->held_route = *held;
  lws_set_timeout(wsi, NO_PENDING_TIMEOUT, 0);  // the plugin host bounds the wait
  return 0;
}

bool Server::answer_held(uint64_t id, HttpReply r) {
  auto it = held_routes_.find(id);
  if (it == held_routes_.end() || it->second.reply) return false;
  it->second.reply = std::move(r);
  lws_callback_on_writable(it->second.wsi);
  return true;
}

// Answered while the route still ran (before the connection was parked), or
// later when the connection becomes writable.
int Server::send_held(lws* wsi, ConnectionState* pss, uint64_t id) {
  auto it = held_routes_.find(id);
  if (it == held_routes_.end() || !it->second.reply) return 0;
  HttpReply r = std::move(*it->second.reply);
  held_routes_.erase(it);
  pss->role = Role::None;
  pss->held_route = 0;
  return reply(wsi, std::move(r));
}

void Server::drop_held(ConnectionState* pss) {
  if (pss->role != Role::RouteHeld) return;
  held_routes_.erase(pss->held_route);
  pss->role = Role::None;
}

int Server::handle(lws* wsi, int r, void* user, void* in, std::size_t len) {
  auto reason = static_cast<lws_callback_reasons>(r);
  auto* pss = static_cast<ConnectionState*>(user);
  switch (reason) {
    case LWS_CALLBACK_FILTER_NETWORK_CONNECTION:
      return accept_fd(static_cast<int>(reinterpret_cast<lws_intptr_t>(in)), listener_of(wsi)) ? 0
                                                                                               : 1;
    case LWS_CALLBACK_HTTP:
      return handle_http(wsi, pss);
    case LWS_CALLBACK_HTTP_BODY:
      if (pss && pss->role == Role::RoutePost) {
        if (pss->buffer.size() + len > routes_[pss->route].options.max_body) return -1;
        pss->buffer.get().append(static_cast<const char*>(in), len);
        return 0;
      }
      return endpoint_.on_http_body(wsi, pss, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
      if (pss && pss->role == Role::RoutePost) return finish_route_post(wsi, pss);
      return endpoint_.on_http_body_completion(wsi, pss);
    case LWS_CALLBACK_HTTP_WRITEABLE:
      if (pss && pss->role == Role::RouteHeld) return send_held(wsi, pss, pss->held_route);
      return endpoint_.on_http_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED_HTTP:
      if (std::exchange(t_header_overflow, false)) note_header_overflow();
      if (pss) drop_held(pss);
      if (pss) endpoint_.on_http_closed(pss);
      return 0;
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
      if (pss) endpoint_.on_http_dropped(pss);
      if (pss) pss->buffer.release();
      return 0;
    case LWS_CALLBACK_HTTP_CONFIRM_UPGRADE:
      return confirm_upgrade(wsi);
    case LWS_CALLBACK_ESTABLISHED:
      return endpoint_.on_ws_established(wsi, pss);
    case LWS_CALLBACK_RECEIVE:
      return endpoint_.on_ws_receive(wsi, pss, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
      return endpoint_.on_ws_writeable(wsi, pss);
    case LWS_CALLBACK_CLOSED:
      if (pss) endpoint_.on_ws_closed(pss);
      return 0;
    case LWS_CALLBACK_SERVER_NEW_CLIENT_INSTANTIATED:
      // Still on the vhost that accepted it.
      lws_set_opaque_user_data(wsi, lws_vhost_user(lws_get_vhost(wsi)));
      track_connection(wsi);
      return 0;
    case LWS_CALLBACK_RAW_RX_FILE:
      if (const Listener* listener = listener_of(wsi)) accept_inherited(*listener);
      return 0;
    case LWS_CALLBACK_OPENSSL_LOAD_EXTRA_SERVER_VERIFY_CERTS:
      // While lws_create_vhost() sets up a TLS vhost: user is its SSL_CTX.
      if (auto* listener = static_cast<Listener*>(lws_vhost_user(static_cast<lws_vhost*>(in))))
        listener->ssl_ctx = static_cast<ssl_ctx_st*>(user);
      return 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
      inbox_.drain();
      for (auto& hook : wake_hooks_) hook();
      return 0;
    case LWS_CALLBACK_WSI_CREATE:
      // Our own HTTP/1.1 connections count as themselves (Http1Connections),
      // not through the raw wsi watching them: that one outlives a hand-over
      // to lws by a turn or more (on libev until an idle watcher runs).
      if (adopting_own_)
        own_watches_.insert(wsi);
      else if (!adopting_listener_)
        ++connections_;
      return 0;
    case LWS_CALLBACK_WSI_DESTROY:
      t_header_overflow = false;
      untrack_connection(wsi);
      if (own_watches_.erase(wsi) == 0 && !forget_listener(wsi) && connections_ > 0) --connections_;
      return 0;
    default:
      return lws_callback_http_dummy(wsi, reason, user, in, len);
  }
}

}  // namespace daheim::transport
