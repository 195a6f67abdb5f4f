// The server side of the Socket.IO admin UI (@socket.io/admin-ui 0.5): the
// admin namespace with its authentication, `config` on connect, the server
// stats every statsInterval, in development mode every socket and what
// happens to it, and the UI's commands (emit, join, leave, _disconnect),
// cluster-wide through the namespaces' adapters. Loop thread only.
//
// Made before the Engine.IO endpoint and started once the namespaces (and
// a cluster's adapters) are set up, so that it outlives every session.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "admin/admin_options.hpp"
#include "admin/gate.hpp"
#include "admin/live_events.hpp"
#include "admin/wire.hpp"
#include "socketio/server.hpp"

namespace daheim::admin {

// The Engine.IO figures the stats report, read at each tick.
struct EngineSample {
  uint64_t sessions_opened = 0;
  uint64_t messages_in = 0;
  uint64_t messages_out = 0;
  uint64_t bytes_in = 0;
  uint64_t bytes_out = 0;
  std::size_t clients = 0;
  std::size_t polling_clients = 0;
};
using EngineSampler = std::function<EngineSample()>;

struct AdminStats {
  uint64_t logins = 0;          // admitted by password
  uint64_t refused = 0;         // CONNECT_ERROR sent
  uint64_t commands = 0;        // applied
  uint64_t bad_commands = 0;    // malformed, unknown namespace, or read-only
  uint64_t events_dropped = 0;  // development mode, queue full
};

class Admin {
 public:
  Admin(socketio::Server& io, AdminOptions options, EngineSampler sampler,
        WallClock wall = nullptr);
  ~Admin();
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // Where the stats read the Engine.IO figures (before start()).
  void set_sampler(EngineSampler sampler) { sampler_ = std::move(sampler); }
  // Declares the admin namespace, installs everything and starts the stats.
  void start();
  const AdminOptions& options() const { return options_; }
  AdminStats stats() const;
  // The next server_stats payload (the aggregated events since the last).
  std::string next_stats_json();

 private:
  void on_connection(socketio::Socket& socket);
  void send_all_sockets(std::string admin_socket_id);
  void on_command(socketio::Socket& socket, socketio::Event& event);
  void emit_stats();
  void aggregate(ServerStats& stats, int64_t now_ms);

  socketio::Server& io_;
  AdminOptions options_;
  EngineSampler sampler_;
  WallClock wall_;
  std::string hostname_;
  loop::TimePoint started_;
  socketio::Namespace* nsp_ = nullptr;
  std::unique_ptr<Gate> gate_;
  std::unique_ptr<LiveEvents> live_;
  std::unique_ptr<loop::Timer> stats_timer_;
  std::unordered_map<std::string, std::string> new_sessions_;  // socket id -> session id
  EngineSample last_{};
  std::array<uint64_t, socketio::kCloseReasons> last_closes_{};
  AdminStats stats_;
};

}  // namespace daheim::admin
