#include "admin/admin.hpp"

#include <unistd.h>

#include <chrono>
#include <memory>
#include <vector>

#include "admin/commands.hpp"
#include "log/log.hpp"
#include "socketio/json_text.hpp"
#include "socketio/namespace.hpp"
#include "socketio/socket.hpp"

namespace daheim::admin {
namespace {

int64_t system_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string host_name() {
  char buf[256] = {0};
  if (gethostname(buf, sizeof buf - 1) != 0) return "localhost";
  return buf;
}

void add_event(ServerStats& s, int64_t second, std::string type, std::string sub, uint64_t n) {
  if (n > 0) s.events.push_back({second, std::move(type), std::move(sub), n});
}

}  // namespace

Admin::Admin(socketio::Server& io, AdminOptions options, EngineSampler sampler, WallClock wall)
    : io_(io),
      options_(std::move(options)),
      sampler_(std::move(sampler)),
      wall_(wall ? std::move(wall) : WallClock(system_ms)),
      hostname_(host_name()),
      started_(io.timers().now()) {}

Admin::~Admin() {
  if (nsp_) io_.set_describe_hook(nullptr);
}

AdminStats Admin::stats() const {
  AdminStats s = stats_;
  if (gate_) s.refused = gate_->refused();
  if (live_) s.events_dropped = live_->dropped();
  return s;
}

void Admin::start() {
  nsp_ = &io_.of(options_.namespace_name);
  gate_ = std::make_unique<Gate>(options_, io_.timers());
  nsp_->use([this](socketio::Socket& socket) -> std::optional<socketio::ConnectError> {
    Gate::Verdict v = gate_->check(socket.auth());
    if (v.error) return v.error;
    if (!v.new_session.empty()) {
      ++stats_.logins;
      new_sessions_[std::string(socket.id())] = std::move(v.new_session);
    }
    return std::nullopt;
  });
  nsp_->on_connection([this](socketio::Socket& socket) { on_connection(socket); });
  nsp_->on_disconnect([this](socketio::Socket& socket, socketio::DisconnectReason) {
    new_sessions_.erase(std::string(socket.id()));
  });
  nsp_->on_event(
      [this](socketio::Socket& socket, socketio::Event& event) { on_command(socket, event); });
  if (options_.development) {
    live_ = std::make_unique<LiveEvents>(*nsp_, options_.max_queued_events, wall_);
    io_.for_each_namespace([this](socketio::Namespace& nsp) { live_->watch(nsp); });
  }
  // Other nodes' fetchSockets never see an admin's password; in development
  // mode every socket's data carries what the UI lists ("_admin").
  io_.set_describe_hook([this](const socketio::Socket& s, socketio::RemoteSocket& r) {
    if (&s.nsp() == nsp_) r.handshake_json = without_auth(r.handshake_json);
    if (options_.development)
      r.data_json = data_with_admin(r.data_json, s.connection().id(),
                                    engineio::to_string(s.connection().transport()));
  });
  stats_timer_ = std::make_unique<loop::Timer>(io_.timers(), [this] { emit_stats(); });
  emit_stats();
}

void Admin::on_connection(socketio::Socket& socket) {
  std::string id(socket.id());
  if (auto it = new_sessions_.find(id); it != new_sessions_.end()) {
    std::string args = "[";
    socketio::json::append_string(args, it->second);
    socket.emit("session", args + "]");
    new_sessions_.erase(it);
  }
  socket.emit("config", "[" + config_json(options_.readonly, options_.development) + "]");
  if (options_.development) send_all_sockets(std::move(id));
}

// Every namespace's sockets on every node, then one all_sockets event.
void Admin::send_all_sockets(std::string admin_socket_id) {
  struct Pending {
    std::size_t left = 0;
    std::string list;
  };
  auto pending = std::make_shared<Pending>();
  std::vector<socketio::Namespace*> namespaces;
  io_.for_each_namespace([&](socketio::Namespace& nsp) { namespaces.push_back(&nsp); });
  pending->left = namespaces.size();
  for (socketio::Namespace* nsp : namespaces) {
    std::string name = nsp->name();
    nsp->adapter().fetch_sockets_async({}, [this, pending, name, admin_socket_id](
                                               std::vector<socketio::RemoteSocket> sockets, bool) {
      for (const auto& s : sockets) {
        if (!pending->list.empty()) pending->list += ',';
        pending->list += serialize_socket(s, name);
      }
      if (--pending->left > 0) return;
      if (socketio::Socket* admin = nsp_->socket(admin_socket_id))
        admin->emit("all_sockets", "[[" + pending->list + "]]");
    });
  }
}

void Admin::on_command(socketio::Socket&, socketio::Event& event) {
  if (options_.readonly || !apply_command(io_, event.name, event.args)) {
    ++stats_.bad_commands;
    log::debug("admin: command {} ignored", event.name);
    return;
  }
  ++stats_.commands;
}

void Admin::aggregate(ServerStats& s, int64_t now_ms) {
  EngineSample now = sampler_ ? sampler_() : EngineSample{};
  int64_t second = now_ms - now_ms % 1000;
  add_event(s, second, "rawConnection", {}, now.sessions_opened - last_.sessions_opened);
  const auto& closes = io_.stats().closes;
  for (std::size_t i = 0; i < closes.size(); ++i)
    add_event(s, second, "rawDisconnection",
              std::string(engineio::to_string(static_cast<engineio::CloseReason>(i))),
              closes[i] - last_closes_[i]);
  add_event(s, second, "packetsIn", {}, now.messages_in - last_.messages_in);
  add_event(s, second, "packetsOut", {}, now.messages_out - last_.messages_out);
  add_event(s, second, "bytesIn", {}, now.bytes_in - last_.bytes_in);
  add_event(s, second, "bytesOut", {}, now.bytes_out - last_.bytes_out);
  s.clients = now.clients;
  s.polling_clients = now.polling_clients;
  last_ = now;
  last_closes_ = closes;
}

std::string Admin::next_stats_json() {
  ServerStats s;
  s.server_id = options_.server_id.empty() ? hostname_ : options_.server_id;
  s.hostname = hostname_;
  s.pid = static_cast<long>(getpid());
  s.uptime = std::chrono::duration<double>(io_.timers().now() - started_).count();
  aggregate(s, wall_());
  io_.for_each_namespace([&](const socketio::Namespace& nsp) {
    s.namespaces.push_back({nsp.name(), nsp.size()});
  });
  return server_stats_json(s);
}

void Admin::emit_stats() {
  nsp_->emit("server_stats", "[" + next_stats_json() + "]");
  stats_timer_->arm(options_.stats_interval);
}

}  // namespace daheim::admin
