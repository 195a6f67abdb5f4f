// The Socket.IO server (socket.io's Server): declares namespaces and makes
// one Client per Engine.IO session. One per event loop; it must outlive
// every Client it made (destroy the sessions first).
//
//   socketio::Server io(timers, options);
//   io.of("/").on_connection([](socketio::Socket& s) { ... });
//   // transport, for each new Engine.IO session:
//   session.start(io.make_client(session));
//   // shutdown:
//   io.close_all();  // sockets see "server shutting down"
#pragma once

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

namespace daheim::socketio {

class Client;
class Namespace;

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

  // Closes every Engine.IO connection (no DISCONNECT packets, so clients
  // reconnect); sockets see the matching reason.
  void close_all(engineio::CloseReason reason = engineio::CloseReason::ServerShuttingDown);

  const Options& options() const { return options_; }

  // Counters for monitoring, updated on the loop.
  struct Stats {
    uint64_t volatile_dropped = 0;
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

  // Adapters for namespaces created from now on (default: InMemoryAdapter).
  void set_adapter_factory(AdapterFactory factory) { adapter_factory_ = std::move(factory); }

  // For Namespace and Client.
  std::unique_ptr<Adapter> make_adapter(Namespace& nsp);
  std::string take_scratch() { return std::move(scratch_); }
  void return_scratch(std::string&& scratch);
  void link(Client& client);
  void unlink(Client& client);

 private:
  loop::TimerQueue& timers_;
  Options options_;
  Stats stats_;
  AdapterFactory adapter_factory_;
  std::map<std::string, std::unique_ptr<Namespace>, std::less<>> namespaces_;
  Client* clients_ = nullptr;
  std::size_t client_count_ = 0;
  std::string scratch_;  // reused for event arguments
};

}  // namespace daheim::socketio
