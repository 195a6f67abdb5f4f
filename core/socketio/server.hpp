// The Socket.IO server (socket.io's Server): declares namespaces and makes
// one Client per Engine.IO session. One per event loop; it must outlive
// every Client it made (destroy the sessions first).
//
//   socketio::Server io(timers, options);
//   io.of("/").on_connection([](socketio::Socket& s) { ... });
//   // transport, for each new Engine.IO session:
//   session.start(io.make_client(session));
//   // shutdown: the transport closes every session (its Client sees the
//   // reason, ServerShuttingDown: no DISCONNECT packets, clients reconnect).
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>

#include "engineio/handler.hpp"
#include "loop/timer.hpp"
#include "socketio/adapter.hpp"
#include "socketio/options.hpp"
#include "socketio/session_store.hpp"

namespace daheim::socketio {

class Client;
class Namespace;
class Socket;

inline constexpr std::size_t kCloseReasons =
    static_cast<std::size_t>(engineio::CloseReason::ServerShuttingDown) + 1;

class Server {
 public:
  using AdapterFactory = std::function<std::unique_ptr<Adapter>(Namespace&)>;

  // `timers` runs namespace-level timers (broadcast ack timeouts); it is the
  // loop's queue, the one the Engine.IO sessions use.
  explicit Server(loop::TimerQueue& timers, Options options = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // The namespace `name` ("/" + name when it lacks the slash), created on
  // first use. "/" exists from the start, as in the reference.
  Namespace& of(std::string_view name);
  Namespace* find(std::string_view name) const;

  // The Engine.IO handler for a new session (the transport calls it once per
  // session and hands the result to Session::start).
  std::unique_ptr<engineio::Handler> make_client(engineio::Connection& connection);

  const Options& options() const { return options_; }

  // Counters for monitoring, updated on the loop.
  struct Stats {
    uint64_t volatile_dropped = 0;
    uint64_t events_rate_limited = 0;     // refused (Options::event_rate)
    uint64_t rate_limit_disconnects = 0;  // sockets disconnected for it
    uint64_t rooms_refused = 0;           // joins over max_rooms_per_socket
    uint64_t namespaces_refused = 0;      // CONNECTs over max_namespaces_per_client
    uint64_t auth_payloads_refused = 0;   // CONNECTs over max_auth_payload
    // Engine.IO connections closed, by engineio::CloseReason.
    std::array<uint64_t, kCloseReasons> closes{};
  };
  Stats& stats() { return stats_; }
  const Stats& stats() const { return stats_; }
  // Visits every namespace (monitoring).
  template <typename F>
  void for_each_namespace(F&& f) const {
    for (const auto& [name, nsp] : namespaces_) f(std::as_const(*nsp));
  }
  template <typename F>
  void for_each_namespace(F&& f) {
    for (auto& [name, nsp] : namespaces_) f(*nsp);
  }
  loop::TimerQueue& timers() const { return timers_; }
  std::size_t client_count() const { return client_count_; }

  // Amends what describe_socket reports of a local socket to other nodes
  // (the admin UI adds its "_admin" member to the data); none by default.
  using DescribeHook = std::function<void(const Socket&, RemoteSocket&)>;
  void set_describe_hook(DescribeHook hook) { describe_hook_ = std::move(hook); }
  const DescribeHook& describe_hook() const { return describe_hook_; }

  // Adapters for namespaces created from now on (default: InMemoryAdapter).
  void set_adapter_factory(AdapterFactory factory) { adapter_factory_ = std::move(factory); }

  // Connection-state recovery's store: null when Options::recovery is off;
  // an InMemorySessionStore unless replaced (before serving connections).
  SessionStore* session_store() const { return session_store_.get(); }
  void set_session_store(std::unique_ptr<SessionStore> store);

  // For Namespace and Client.
  std::unique_ptr<Adapter> make_adapter(Namespace& nsp);
  std::string take_scratch() { return std::move(scratch_); }
  void return_scratch(std::string&& scratch);
  // A Client made and destroyed: counted, not listed (the transport holds
  // the sessions; a list would cost every connection two pointers).
  void client_created() { ++client_count_; }
  void client_destroyed() { --client_count_; }

 private:
  loop::TimerQueue& timers_;
  Options options_;
  Stats stats_;
  AdapterFactory adapter_factory_;
  DescribeHook describe_hook_;
  std::unique_ptr<SessionStore> session_store_;
  std::map<std::string, std::unique_ptr<Namespace>, std::less<>> namespaces_;
  std::size_t client_count_ = 0;
  std::string scratch_;  // reused for event arguments
};

}  // namespace daheim::socketio
