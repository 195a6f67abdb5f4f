// The plugin host: loads plugins (in order), gives them the host API table,
// and dispatches Socket.IO events to their `$`-methods as the original server
// did: event X goes to the plugin with "$X"; what it answers is the ack;
// without a method the client gets {"error":"unhandled"}; every plugin's
// on_connect / on_disconnect runs in load order.
//
//   plugin::Host host(io, inbox);
//   if (auto err = host.load(specs); !err.empty()) { log(err); return 78; }
//   for (const auto& name : namespaces) host.install(io.of(name));
//   // ... serve; destroying the host shuts the plugins down (after the
//   // sockets are gone: destroy it after the transport).
//
// Lives on the loop thread; only the reply, post and log entry points of the
// C ABI are used from other threads.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <vector>

#include "daheim/plugin.h"
#include "loop/inbox.hpp"
#include "loop/timer.hpp"
#include "plugin/call_stats.hpp"
#include "plugin/calls.hpp"
#include "plugin/context.hpp"
#include "plugin/http_replies.hpp"
#include "plugin/http_route.hpp"
#include "plugin/node_services.hpp"
#include "plugin/socket_handles.hpp"
#include "plugin/token_check.hpp"
#include "socketio/disconnect_reason.hpp"
#include "socketio/event.hpp"
#include "socketio/session_store.hpp"

namespace daheim::socketio {
class Namespace;
class Server;
class Socket;
}  // namespace daheim::socketio

namespace daheim::plugin {

struct PluginSpec {
  std::string path;                  // resolved (see resolve_plugin_path)
  std::string config_json = "null";  // the plugin's `config` value
};

struct HostOptions {
  // Deferred calls one socket may have outstanding (config key
  // pluginHost.maxPendingCallsPerSocket); beyond that its events are
  // answered {"error":"overloaded"} without calling the plugin.
  std::size_t max_pending_calls = 16384;
  // Deferred calls the whole server may have outstanding
  // (pluginHost.maxPendingCalls); beyond, as above.
  std::size_t max_pending_calls_total = 100000;
  // A deferred call not answered within this time is answered
  // {"error":"timeout"} (pluginHost.callTimeout); a later reply gets
  // DHL_ERR_DONE. 0: no timeout.
  std::chrono::milliseconds call_timeout{30000};
};

// The authenticated user behind a socket (from the auth middleware). The
// views must stay valid while the socket is connected. Empty id: none.
struct SocketUser {
  std::string_view id;
  std::string_view claims_json;
};
using UserLookup = std::function<SocketUser(const socketio::Socket&)>;
// A method of the server itself (e.g. "$auth.refresh"): answers the event
// (Socket::ack) on its own.
using BuiltinMethod = std::function<void(socketio::Socket&, socketio::Event&)>;

// The plugin directory of this installation (the SDK's `plugindir`).
std::string default_plugin_dir();
// `path` as is when absolute, else relative to `dir`.
std::string resolve_plugin_path(const std::string& dir, const std::string& path);

class Host {
 public:
  Host(socketio::Server& io, loop::Inbox& inbox, HostOptions options = {});
  ~Host();
  Host(const Host&) = delete;
  Host& operator=(const Host&) = delete;

  // Loads and initialises the plugins in order. Returns an empty string, or
  // one line saying what failed (then the plugins of this call are shut
  // down and unloaded again).
  std::string load(const std::vector<PluginSpec>& specs);
  // Dispatches the namespace's sockets and events to the plugins (replaces
  // its catch-all event handler).
  void install(socketio::Namespace& nsp);
  void set_user_lookup(UserLookup lookup) { user_lookup_ = std::move(lookup); }
  // What verify_token uses; none (no auth section): DHL_ERR_NOTFOUND.
  void set_token_verifier(TokenVerifier verifier) { token_verifier_ = std::move(verifier); }
  const TokenVerifier& token_verifier() const { return token_verifier_; }
  // Where plugins' HTTP routes go (host API http_route); none: refused.
  void set_http_router(HttpRouter router) { http_router_ = std::move(router); }
  const HttpRouter& http_router() const { return http_router_; }
  // Requests to plugin routes answered later (http_defer / http_reply).
  HttpReplies& http_replies() { return http_replies_; }
  // The cluster behind the ABI 1.3 services (before load(); null: one node).
  void set_cluster(ClusterServices* cluster) { nodes_.set_cluster(cluster); }
  NodeServices& nodes() { return nodes_; }
  // Adds a server method for event `event` (no "$"). Call before load():
  // a plugin defining the same method then fails to load. false: taken.
  bool add_method(std::string event, BuiltinMethod method);
  std::size_t method_count() const { return routes_.size(); }
  // Sockets still connected get every plugin's on_disconnect ("server
  // shutting down"), then every plugin is shut down (reverse order) and
  // unloaded. Idempotent.
  void shutdown();

  std::size_t plugin_count() const { return plugins_.size(); }
  std::size_t pending_calls() const { return calls_.size(); }
  // What was counted about calls and hooks, for /metrics (loop thread).
  StatsView stats() const;

  // ---- For the C ABI entry points (host_api.cpp) ----
  bool on_loop_thread() const { return std::this_thread::get_id() == loop_thread_; }
  // The socket behind a plugin's handle, or null with `error`: DHL_ERR_GONE
  // for a handle kept past its socket's disconnect (logged, naming `fn`),
  // DHL_ERR_INVALID for one never issued. Loop thread.
  socketio::Socket* socket_of(const dhl_ctx& ctx, const dhl_socket* handle, const char* fn,
                              int& error);
  // The handle of a connected socket of a namespace this host serves; null
  // for another namespace's (no handle is made that would never be released).
  dhl_socket* handle_of(socketio::Socket& socket);
  socketio::Server& io() const { return io_; }
  SocketUser user_of(const socketio::Socket& socket) const;
  void log(const dhl_ctx& ctx, int level, std::string_view message) const;
  int reply(dhl_ctx* ctx, dhl_call* call, const dhl_payload* result,
            CallOutcome outcome = CallOutcome::Ok);
  dhl_call* defer(dhl_ctx* ctx, dhl_call* call);
  int wants_ack(const dhl_call* call) const;
  int post(dhl_ctx* ctx, dhl_task_fn fn, void* user);
  dhl_timer* create_timer(dhl_ctx* ctx, dhl_timer_fn fn, void* user);
  void destroy_timer(dhl_ctx* ctx, dhl_timer* timer);
  bool owns_timer(const dhl_ctx* ctx, const dhl_timer* timer) const;
  void fire_timer(dhl_timer& timer);
  // A message from plugin `from` to the plugin named `to` (send_message).
  int message(dhl_ctx& from, std::string_view to, std::string_view topic, std::string_view json);
  void warn_limited(std::string message);
  // Null once the host has shut down (for callbacks that may come late).
  const std::shared_ptr<Host*>& alive() const { return alive_; }

 private:
  struct Route {
    dhl_ctx* ctx;              // null for a server method
    const dhl_method* method;  // null for a server method
    const BuiltinMethod* builtin;
    CallStats* stats;  // null for a server method
  };
  struct StringHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  // Held while plugin code runs (callbacks, tasks, timers): at the outermost
  // level it frees the timers plugins destroyed.
  class PluginCallScope;

  std::string load_one(const PluginSpec& spec);
  std::string add_routes(dhl_ctx& ctx);
  void remove_routes(const dhl_ctx& ctx);
  void unload_last();
  void roll_back(std::size_t first);

  void on_connect(socketio::Socket& socket);
  void on_event(socketio::Socket& socket, socketio::Event& event);
  void on_disconnect(socketio::Socket& socket, socketio::DisconnectReason reason);
  // Connection-state recovery: the plugins' save_session / restore_session.
  void save_sessions(socketio::Socket& socket, socketio::SavedSession& session);
  void restore_session(dhl_ctx& ctx, socketio::Socket& socket);
  void unhandled(socketio::Socket& socket, const socketio::Event& event);
  void call_method(const Route& route, socketio::Socket& socket, socketio::Event& event);
  int reply_later(dhl_call* call, const dhl_payload* result, CallOutcome outcome);
  void complete(const PendingCall& call, const dhl_payload* result, CallOutcome outcome);
  void send(socketio::Socket& socket, dhl_ctx& ctx, const char* method,
            std::optional<uint64_t> ack_id, const dhl_payload* result);
  void collect();
  void arm_call_timeout();
  void expire_calls();

  socketio::Server& io_;
  HostOptions options_;
  std::thread::id loop_thread_;
  // Plugins' posted tasks and deferred replies from any thread, tagged with
  // their plugin (dhl_ctx) so that a plugin whose init failed has its tasks
  // dropped before it is unloaded.
  loop::Inbox::Lane lane_;
  CallRegistry calls_;
  std::vector<std::unique_ptr<dhl_ctx>> plugins_;
  std::unordered_map<std::string, Route, StringHash, std::equal_to<>> routes_;  // event -> method
  std::vector<std::unique_ptr<BuiltinMethod>> builtins_;
  std::vector<socketio::Namespace*> installed_;
  SocketHandles handles_;  // what plugins get as dhl_socket*
  UserLookup user_lookup_;
  TokenVerifier token_verifier_;
  HttpRouter http_router_;
  HttpReplies http_replies_;
  std::shared_ptr<Host*> alive_;
  NodeServices nodes_;
  bool nodes_installed_ = false;
  SyncCall* current_ = nullptr;  // the call a method is running with
  std::vector<std::unique_ptr<dhl_timer>> dead_timers_;
  uint64_t unhandled_events_ = 0;
  std::unique_ptr<loop::Timer> call_timer_;  // pluginHost.callTimeout
  int depth_ = 0;
  int message_depth_ = 0;
  bool shut_down_ = false;
  std::chrono::steady_clock::time_point warn_window_{};
  std::size_t warnings_in_window_ = 0;
  std::size_t warnings_suppressed_ = 0;
};

}  // namespace daheim::plugin
