// A namespace (socket.io's Namespace): its connect middleware, handlers,
// sockets and adapter. Owned by the Server; lives as long as it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "engineio/id_index.hpp"
#include "loop/timer.hpp"
#include "socketio/ack.hpp"
#include "socketio/adapter.hpp"
#include "socketio/broadcast_options.hpp"
#include "socketio/connect_error.hpp"
#include "socketio/disconnect_reason.hpp"
#include "socketio/event.hpp"
#include "socketio/session_store.hpp"

namespace daheim::socketio {

class BroadcastAck;
class Server;
class Socket;

class Namespace {
 public:
  // Runs before a socket joins; nullopt admits it, a ConnectError refuses it.
  // Synchronous. The socket may join rooms but is not connected yet.
  using Middleware = std::function<std::optional<ConnectError>(Socket&)>;
  using ConnectionHandler = std::function<void(Socket&)>;
  using EventHandler = std::function<void(Socket&, Event&)>;
  using DisconnectHandler = std::function<void(Socket&, DisconnectReason)>;
  // An event another node sent with serverSideEmit: `args` is its JSON
  // argument array; `ack` (null when the sender wants none) takes the JSON
  // of the one value to answer with.
  using ServerSideAck = std::function<void(std::string_view answer_json)>;
  using ServerSideEmitHandler =
      std::function<void(std::string_view event, std::string_view args, ServerSideAck ack)>;
  // Adds to the session of a socket that leaves recoverably (before the
  // disconnect handlers run), e.g. a plugin's state under its name.
  using PersistHandler = std::function<void(Socket&, SavedSession&)>;

  Namespace(Server& server, std::string name);
  ~Namespace();
  Namespace(const Namespace&) = delete;
  Namespace& operator=(const Namespace&) = delete;

  const std::string& name() const { return name_; }
  Server& server() const { return server_; }
  Adapter& adapter() const { return *adapter_; }
  // Replaces the adapter; only before the first socket connects.
  void set_adapter(std::unique_ptr<Adapter> adapter) { adapter_ = std::move(adapter); }

  // Handlers are meant to be set up before the server serves connections.
  void use(Middleware middleware) { middleware_.push_back(std::move(middleware)); }
  void on_connection(ConnectionHandler handler) { on_connection_.push_back(std::move(handler)); }
  // The catch-all event handler (one; setting it again replaces it).
  void on_event(EventHandler handler) { on_event_ = std::move(handler); }
  void on_disconnect(DisconnectHandler handler) { on_disconnect_.push_back(std::move(handler)); }
  void on_server_side_emit(ServerSideEmitHandler handler) {
    on_server_side_emit_ = std::move(handler);
  }
  // The handler set now (to chain a new one in front of it).
  const ServerSideEmitHandler& server_side_emit_handler() const { return on_server_side_emit_; }
  // The other nodes' handlers get `event` (see Adapter::server_side_emit).
  // false: a reserved event name.
  bool server_side_emit(std::string_view event, std::string_view args,
                        ServerSideEmitCallback callback = nullptr);
  void on_persist(PersistHandler handler) { on_persist_.push_back(std::move(handler)); }

  // Observers (the admin UI's development mode; none by default, so each
  // costs an empty-vector check): every event a client sent, before the
  // event handler; every event emitted to one socket (Socket::emit and its
  // variants; `args` as given there); every change of room membership
  // (`joined` false: left), the socket's own-id room included.
  using EventObserver = std::function<void(Socket&, const Event&)>;
  using OutgoingObserver =
      std::function<void(Socket&, std::string_view event, std::string_view args)>;
  using RoomObserver =
      std::function<void(std::string_view room, std::string_view socket_id, bool joined)>;
  void observe_incoming(EventObserver observer) { on_any_.push_back(std::move(observer)); }
  void observe_outgoing(OutgoingObserver observer) {
    on_any_outgoing_.push_back(std::move(observer));
  }
  void observe_rooms(RoomObserver observer) { on_room_.push_back(std::move(observer)); }

  // Who a session belongs to (the authenticated user's id, "" for none): a
  // session is restored only for the same owner; another one gets
  // CONNECT_ERROR {"message":"unauthorized","data":{"code":"session_mismatch"}}
  // after the middleware ran, and the session stays.
  using OwnerFunction = std::function<std::string(const Socket&)>;
  void set_session_owner(OwnerFunction owner) { session_owner_ = std::move(owner); }

  // Connection-state recovery is on (the server has a session store).
  SessionStore* session_store() const;

  // Broadcasts, encoded once (`args` as for Socket::emit). false: a
  // reserved event name.
  bool emit(std::string_view event, std::string_view args = {},
            std::span<const std::string> attachments = {});
  bool emit_to(const BroadcastOptions& opts, std::string_view event, std::string_view args = {},
               std::span<const std::string> attachments = {});
  // Collects every reached client's answer. false: not sent, the callback
  // will not run (a reserved event name, or Options::max_pending_broadcast_acks
  // outstanding). With no client reached, the callback runs before this
  // returns. Clients that disconnect meanwhile are waited for until the
  // timeout, as in the reference.
  bool emit_with_ack(const BroadcastOptions& opts, std::string_view event, std::string_view args,
                     std::span<const std::string> attachments, loop::Millis timeout,
                     BroadcastAckCallback callback);

  // A connected socket of this namespace, or null.
  Socket* socket(std::string_view id) const;
  // The connected socket whose private session id is `pid`, or null.
  Socket* socket_by_pid(std::string_view pid) const;
  // Connected sockets.
  std::size_t size() const { return connected_; }
  std::vector<Socket*> fetch_sockets(const BroadcastOptions& opts = {}) const;
  void sockets_join(const BroadcastOptions& opts, std::span<const std::string_view> rooms);
  void sockets_leave(const BroadcastOptions& opts, std::span<const std::string_view> rooms);
  void disconnect_sockets(const BroadcastOptions& opts, bool close_transport = false);

  // For Client, Socket and adapters.
  // Any registered socket, also one still in connect middleware.
  Socket* find_socket(std::string_view id) const;
  uint64_t next_ack_id() { return next_ack_id_++; }
  // Registers the socket and runs the middleware. false: refused (the
  // CONNECT_ERROR is sent) or the connection closed meanwhile.
  bool admit(Socket& socket);
  // Sends the CONNECT reply and runs the connection handlers.
  void connect(Socket& socket);
  void dispatch_event(Socket& socket, Event& event);
  void notify_outgoing(Socket& socket, std::string_view event, std::string_view args) {
    for (std::size_t i = 0; i < on_any_outgoing_.size(); ++i)
      on_any_outgoing_[i](socket, event, args);
  }
  void notify_room(std::string_view room, std::string_view socket_id, bool joined) {
    for (std::size_t i = 0; i < on_room_.size(); ++i) on_room_[i](room, socket_id, joined);
  }
  // Unregisters the socket (rooms included).
  void remove(Socket& socket);
  void notify_disconnect(Socket& socket, DisconnectReason reason);
  // For adapters: an event from another node's serverSideEmit.
  void dispatch_server_side_emit(std::string_view event, std::string_view args, ServerSideAck ack);
  // For adapters: expires `ack` at its deadline like the namespace's own.
  void track_broadcast_ack(std::shared_ptr<BroadcastAck> ack);
  // Saves the session of a socket that leaves for a recoverable reason.
  void persist(Socket& socket);
  // The socket's session changed (connected, rooms, data, a plugin's state):
  // a store that keeps live sessions gets it at the end of the loop turn.
  void session_changed(Socket& socket);
  // A socket left for good: a live copy of its session goes.
  void forget_session(Socket& socket);

 private:
  void arm_ack_timer();
  void on_ack_timer();
  SavedSession snapshot(Socket& socket);
  void save_changed_sessions();

  Server& server_;
  std::string name_;
  std::unique_ptr<Adapter> adapter_;
  std::vector<Middleware> middleware_;
  std::vector<ConnectionHandler> on_connection_;
  EventHandler on_event_;
  std::vector<DisconnectHandler> on_disconnect_;
  ServerSideEmitHandler on_server_side_emit_;
  std::vector<PersistHandler> on_persist_;
  std::vector<EventObserver> on_any_;
  std::vector<OutgoingObserver> on_any_outgoing_;
  std::vector<RoomObserver> on_room_;
  OwnerFunction session_owner_;
  engineio::IdIndex<Socket> sockets_;  // the adapter finds its slots through it too
  std::unordered_map<std::string_view, Socket*> by_pid_;  // recovery on; keys view Socket::pid()
  std::size_t connected_ = 0;
  uint64_t next_ack_id_ = 0;
  std::vector<std::shared_ptr<BroadcastAck>> broadcast_acks_;
  loop::Timer ack_timer_;
  std::vector<std::string> changed_;  // socket ids (Socket::Recovery::changed set)
  loop::Timer changed_timer_;
};

}  // namespace daheim::socketio
