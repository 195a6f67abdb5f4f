#include "socketio/namespace.hpp"

#include <algorithm>
#include <chrono>
#include <utility>

#include "socketio/broadcast_ack.hpp"
#include "socketio/client.hpp"
#include "socketio/encoder.hpp"
#include "socketio/in_memory_adapter.hpp"
#include "socketio/packet.hpp"
#include "socketio/protocol_v4.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::socketio {

Namespace::Namespace(Server& server, std::string name)
    : server_(server),
      name_(std::move(name)),
      adapter_(server.make_adapter(*this)),
      ack_timer_(server.timers(), [this] { on_ack_timer(); }),
      changed_timer_(server.timers(), [this] { save_changed_sessions(); }) {}

Namespace::~Namespace() = default;

bool Namespace::emit(std::string_view event, std::string_view args,
                     std::span<const std::string> attachments) {
  return emit_to(BroadcastOptions{}, event, args, attachments);
}

SessionStore* Namespace::session_store() const {
  return server_.session_store();
}

// With recovery on, every non-volatile event without ack is logged and
// carries its offset as last argument (socket.io-adapter's
// addOffsetIfNecessary).
bool Namespace::emit_to(const BroadcastOptions& opts, std::string_view event, std::string_view args,
                        std::span<const std::string> attachments) {
  if (is_reserved_event(event)) return false;
  SessionStore* store = session_store();
  if (store == nullptr || opts.flags.volatile_) {
    EncodedPacket packet = encode_event(name_, event, args, attachments);
    if (store != nullptr) packet.volatile_tail = volatile_tail_of(args);
    adapter_->broadcast(packet, opts);
    return true;
  }
  store->append({name_, event, args, attachments, opts},
                [this](const EncodedPacket& packet, const BroadcastOptions& to) {
                  adapter_->broadcast(packet, to);
                });
  return true;
}

bool Namespace::emit_with_ack(const BroadcastOptions& opts, std::string_view event,
                              std::string_view args, std::span<const std::string> attachments,
                              loop::Millis timeout, BroadcastAckCallback callback) {
  if (is_reserved_event(event)) return false;
  std::erase_if(broadcast_acks_, [](const auto& a) { return a->done(); });
  if (broadcast_acks_.size() >= server_.options().max_pending_broadcast_acks) return false;
  uint64_t ack_id = next_ack_id();
  EncodedPacket packet = encode_event(name_, event, args, attachments, ack_id);
  loop::TimePoint deadline = server_.timers().now() + timeout;
  auto ack = std::make_shared<BroadcastAck>(std::move(callback), deadline);
  broadcast_acks_.push_back(ack);
  arm_ack_timer();
  adapter_->broadcast_with_ack(packet, ack_id, opts, ack);
  if (!adapter_->reports_server_count()) ack->set_server_count(adapter_->server_count());
  return true;
}

void Namespace::track_broadcast_ack(std::shared_ptr<BroadcastAck> ack) {
  std::erase_if(broadcast_acks_, [](const auto& a) { return a->done(); });
  broadcast_acks_.push_back(std::move(ack));
  arm_ack_timer();
}

bool Namespace::server_side_emit(std::string_view event, std::string_view args,
                                 ServerSideEmitCallback callback) {
  if (is_reserved_event(event)) return false;
  adapter_->server_side_emit(event, args, std::move(callback));
  return true;
}

void Namespace::dispatch_server_side_emit(std::string_view event, std::string_view args,
                                          ServerSideAck ack) {
  if (on_server_side_emit_) on_server_side_emit_(event, args, std::move(ack));
}

void Namespace::arm_ack_timer() {
  loop::TimePoint earliest = loop::TimePoint::max();
  for (const auto& a : broadcast_acks_)
    if (!a->done()) earliest = std::min(earliest, a->deadline());
  if (earliest == loop::TimePoint::max()) {
    ack_timer_.disarm();
    return;
  }
  loop::TimePoint now = server_.timers().now();
  ack_timer_.arm(earliest <= now ? loop::Millis(0)
                                 : std::chrono::ceil<loop::Millis>(earliest - now));
}

void Namespace::on_ack_timer() {
  loop::TimePoint now = server_.timers().now();
  std::vector<std::shared_ptr<BroadcastAck>> expired;
  for (const auto& a : broadcast_acks_)
    if (!a->done() && a->deadline() <= now) expired.push_back(a);
  std::erase_if(broadcast_acks_, [&](const auto& a) { return a->done() || a->deadline() <= now; });
  arm_ack_timer();
  for (const auto& a : expired) a->expire();
}

Socket* Namespace::socket(std::string_view id) const {
  Socket* s = find_socket(id);
  return s != nullptr && s->connected() ? s : nullptr;
}

Socket* Namespace::socket_by_pid(std::string_view pid) const {
  auto it = by_pid_.find(pid);
  return it == by_pid_.end() ? nullptr : it->second;
}

Socket* Namespace::find_socket(std::string_view id) const {
  return sockets_.find(id);
}

std::vector<Socket*> Namespace::fetch_sockets(const BroadcastOptions& opts) const {
  return adapter_->fetch_sockets(opts);
}

void Namespace::sockets_join(const BroadcastOptions& opts,
                             std::span<const std::string_view> rooms) {
  adapter_->add_sockets(opts, rooms);
}

void Namespace::sockets_leave(const BroadcastOptions& opts,
                              std::span<const std::string_view> rooms) {
  adapter_->del_sockets(opts, rooms);
}

void Namespace::disconnect_sockets(const BroadcastOptions& opts, bool close_transport) {
  adapter_->disconnect_sockets(opts, close_transport);
}

bool Namespace::admit(Socket& socket) {
  sockets_.insert(socket);
  socket.join_restored_rooms();
  // Unlike the reference (skipMiddlewares), a recovered socket passes the
  // middleware again: its token is checked anew before it gets anything.
  for (std::size_t i = 0; i < middleware_.size(); ++i) {
    std::optional<ConnectError> error = middleware_[i](socket);
    if (socket.client().closed()) return false;
    if (error) {
      socket.client().send(socket.client().legacy()
                               ? v4::encode_connect_error(name_, error->message, error->data)
                               : encode_connect_error(name_, error->message, error->data));
      return false;
    }
  }
  if (socket.recovered() && session_owner_ && session_owner_(socket) != socket.restored_owner()) {
    socket.client().send(
        encode_connect_error(name_, "unauthorized", R"({"code":"session_mismatch"})"));
    return false;
  }
  return true;
}

void Namespace::connect(Socket& socket) {
  ++connected_;
  if (SessionStore* store = session_store()) {
    by_pid_[socket.pid()] = &socket;
    if (socket.recovered()) store->restored(socket.pid());
  }
  socket.on_connected();
  for (std::size_t i = 0; i < on_connection_.size() && socket.connected(); ++i)
    on_connection_[i](socket);
  socket.end_restore();
  if (socket.connected()) session_changed(socket);
}

void Namespace::dispatch_event(Socket& socket, Event& event) {
  for (std::size_t i = 0; i < on_any_.size(); ++i) on_any_[i](socket, event);
  if (on_event_) on_event_(socket, event);
}

void Namespace::remove(Socket& socket) {
  if (socket.connected()) {
    --connected_;
    if (auto it = by_pid_.find(socket.pid()); it != by_pid_.end() && it->second == &socket)
      by_pid_.erase(it);
  }
  adapter_->del_all(socket.id());
  sockets_.erase(socket);
}

SavedSession Namespace::snapshot(Socket& socket) {
  SavedSession session{name_,
                       std::string(socket.id()),
                       std::string(socket.pid()),
                       adapter_->socket_rooms(socket.id()),
                       std::as_const(socket).data(),
                       session_owner_ ? session_owner_(socket) : std::string(),
                       socket.start_offset(),
                       socket.volatile_tail(),
                       socket.volatile_tail_offset(),
                       {}};
  for (std::size_t i = 0; i < on_persist_.size(); ++i) on_persist_[i](socket, session);
  return session;
}

void Namespace::persist(Socket& socket) {
  SessionStore* store = session_store();
  if (store == nullptr) return;
  store->save(snapshot(socket));
}

void Namespace::session_changed(Socket& socket) {
  SessionStore* store = session_store();
  if (store == nullptr || !store->keeps_live_sessions() || !socket.connected() ||
      !socket.mark_changed())
    return;
  changed_.emplace_back(socket.id());
  if (!changed_timer_.armed()) changed_timer_.arm(loop::Millis(0));
}

// Once per loop turn: however often a socket changed, one write.
void Namespace::save_changed_sessions() {
  std::vector<std::string> ids = std::move(changed_);
  changed_.clear();
  SessionStore* store = session_store();
  for (const std::string& id : ids) {
    Socket* s = socket(id);
    if (s == nullptr || !s->clear_changed() || store == nullptr) continue;
    store->save_live(snapshot(*s));
  }
}

void Namespace::forget_session(Socket& socket) {
  SessionStore* store = session_store();
  if (store != nullptr && store->keeps_live_sessions()) store->forget(socket.pid());
}

void Namespace::notify_disconnect(Socket& socket, DisconnectReason reason) {
  for (std::size_t i = 0; i < on_disconnect_.size(); ++i) on_disconnect_[i](socket, reason);
}

}  // namespace daheim::socketio
