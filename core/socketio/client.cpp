#include "socketio/client.hpp"

#include <algorithm>

#include "engineio/sid.hpp"
#include "socketio/json_text.hpp"
#include "socketio/namespace.hpp"
#include "socketio/protocol_v4.hpp"
#include "socketio/server.hpp"
#include "socketio/socket.hpp"

namespace daheim::socketio {

Client::Client(Server& server, engineio::Connection& connection)
    : server_(server),
      connection_(connection),
      decoder_(server.options().max_attachments),
      // Protocol 5: no namespace joined in time closes the connection.
      // Protocol 4: "/" is joined unasked, at once (the timer armed at 0).
      connect_timer_(std::make_unique<loop::Timer>(connection.timers(),
                                                   [this] {
                                                     if (legacy_)
                                                       connect_main();
                                                     else if (sockets_.empty())
                                                       close_forced_server();
                                                   })),
      legacy_(v4::is_legacy(connection.handshake())) {
  connect_timer_->arm(legacy_ ? loop::Millis{0} : server.options().connect_timeout);
  server_.client_created();
}

Client::~Client() {
  if (rare_ && rare_->self) *rare_->self = nullptr;
  // The session is being destroyed: no more sends, only the bookkeeping.
  on_close(engineio::CloseReason::TransportClose);
  server_.client_destroyed();
}

Client::Rare& Client::rare() {
  if (!rare_) rare_ = std::make_unique<Rare>();
  return *rare_;
}

void Client::free_retired() {
  if (rare_) rare_->retired.clear();
}

void Client::on_message(std::string_view text) {
  if (closed_) return;
  free_retired();
  Packet packet;
  switch (decoder_.add_text(text, packet)) {
    case DecodeStatus::Failed:  // the reference closes the connection: "forced close"
      close(engineio::CloseReason::ForcedClose);
      return;
    case DecodeStatus::Pending:
      return;
    case DecodeStatus::Complete:
      dispatch(packet);
      return;
  }
}

void Client::on_binary(std::string_view data) {
  if (closed_) return;
  free_retired();
  Packet packet;
  switch (decoder_.add_binary(data, packet)) {
    case DecodeStatus::Failed:  // the reference closes the connection: "forced close"
      close(engineio::CloseReason::ForcedClose);
      return;
    case DecodeStatus::Pending:
      return;
    case DecodeStatus::Complete:
      dispatch(packet);
      decoder_.reset();
      return;
  }
}

void Client::on_close(engineio::CloseReason reason) {
  if (!closed_) ++server_.stats().closes[static_cast<std::size_t>(reason)];
  teardown_sockets(from_close_reason(reason));
}

void Client::teardown_sockets(DisconnectReason why) {
  if (closed_) return;
  closed_ = true;
  if (connect_timer_) connect_timer_->disarm();
  // The decoder keeps its buffer: a packet being dispatched may view it.
  std::vector<std::unique_ptr<Socket>> sockets = sockets_.take_all();
  for (auto& socket : sockets) socket->teardown(why);
  for (auto& socket : sockets) rare().retired.push_back(std::move(socket));
}

Socket* Client::socket(std::string_view nsp) const {
  for (const auto& s : sockets_.all())
    if (s->nsp().name() == nsp) return s.get();
  return nullptr;
}

bool Client::send(const EncodedPacket& packet) {
  if (closed_ || !connection_.send(packet.text)) return false;
  for (const engineio::FramePtr& frame : packet.attachments)
    if (!connection_.send(frame)) return false;
  return true;
}

void Client::close(engineio::CloseReason reason) {
  if (closed_) return;
  connection_.close(reason);
  on_close(reason);  // a no-op when the connection already reported it
}

// The reference's Client.close(): sockets learn "forced server close", then
// the connection closes.
void Client::close_forced_server() {
  if (closed_) return;
  teardown_sockets(DisconnectReason::ForcedServerClose);
  connection_.close(engineio::CloseReason::ForcedClose);
}

void Client::disconnect_all() {
  std::vector<Socket*> sockets;
  for (const auto& s : sockets_.all()) sockets.push_back(s.get());
  for (Socket* s : sockets) s->disconnect(false);
  close(engineio::CloseReason::ForcedClose);
}

void Client::detach(Socket& socket) {
  if (std::unique_ptr<Socket> owned = sockets_.take(socket))
    rare().retired.push_back(std::move(owned));
}

// A packet for a namespace not joined, a second CONNECT, or a CONNECT_ERROR
// from the client closes the connection (socket.io's Client.ondecoded).
void Client::dispatch(Packet& packet) {
  if (packet.type == PacketType::Connect) {
    std::string_view name = packet.nsp;
    if (legacy_) name = name.substr(0, name.find('?'));  // "/admin?token=x"
    if (this->socket(name) != nullptr || restoring(name)) return close_forced_server();
    if (rare_) std::erase_if(rare_->departed, [&](const Departed& d) { return d.nsp == name; });
    return connect(packet);
  }
  Socket* socket = this->socket(packet.nsp);
  if (socket == nullptr && drop_after_disconnect(packet)) return;
  if (socket == nullptr || packet.type == PacketType::ConnectError) return close_forced_server();
  if (packet.is_event()) return on_event(*socket, packet);
  if (packet.is_ack()) return socket->on_ack_packet(packet);
  socket->teardown(DisconnectReason::ClientNamespaceDisconnect);  // DISCONNECT
}

void Client::on_event(Socket& socket, Packet& packet) {
  std::string args = server_.take_scratch();
  args.assign(1, '[');
  args.append(packet.args_tail);
  socket.on_event_packet(packet, args);
  server_.return_scratch(std::move(args));
}

// socket.io's Client.connect for a protocol 4 client: "/" with no auth.
void Client::connect_main() {
  if (closed_ || socket("/") != nullptr) return;
  Packet packet;
  packet.type = PacketType::Connect;
  packet.nsp = "/";
  connect(packet);
}

void Client::note_server_disconnect(std::string_view nsp) {
  for (const Departed& d : rare().departed)
    if (d.nsp == nsp) return;
  rare_->departed.push_back({std::string(nsp), 0});
}

// Events and acks the client sent to a namespace before the server's
// DISCONNECT reached it; its own DISCONNECT ends the wait.
bool Client::drop_after_disconnect(const Packet& packet) {
  if (!rare_) return false;
  std::vector<Departed>& departed = rare_->departed;
  auto it = std::find_if(departed.begin(), departed.end(),
                         [&](const Departed& d) { return d.nsp == packet.nsp; });
  if (it == departed.end() || packet.type == PacketType::ConnectError) return false;
  if (packet.type == PacketType::Disconnect) {
    departed.erase(it);
    return true;
  }
  return ++it->dropped <= kMaxAfterDisconnect;
}

// Options::max_namespaces_per_client and max_auth_payload; a CONNECT over
// either gets a CONNECT_ERROR naming the limit.
bool Client::within_limits(const Packet& packet) {
  const Options& options = server_.options();
  if (sockets_.size() >= options.max_namespaces_per_client) {
    ++server_.stats().namespaces_refused;
    send(encode_connect_error(packet.nsp, "Too many namespaces"));
    return false;
  }
  if (packet.data.size() > options.max_auth_payload) {
    ++server_.stats().auth_payloads_refused;
    send(encode_connect_error(packet.nsp, "Auth payload too large"));
    return false;
  }
  return true;
}

void Client::connect(const Packet& packet) {
  std::string_view name = packet.nsp;
  std::string auth = packet.data.empty() ? std::string("{}") : std::string(packet.data);
  if (legacy_) {
    v4::ConnectTarget target = v4::parse_connect_nsp(packet.nsp);
    name = target.name;
    auth = std::move(target.auth_json);
  }
  Namespace* nsp = server_.find(name);
  if (nsp == nullptr) {
    send(legacy_ ? v4::encode_connect_error(name, "Invalid namespace")
                 : encode_connect_error(name, "Invalid namespace"));
    return;
  }
  if (!within_limits(packet)) return;
  if (nsp->session_store() != nullptr && !legacy_) {
    // socket.io-client sends {pid, offset, ...auth} after a disconnect; the
    // offset is absent when it got no logged event (socket.io #5538).
    if (std::optional<std::string> pid = json::string_member(auth, "pid")) {
      std::string offset = json::string_member(auth, "offset").value_or("");
      return request_restore(*nsp, std::move(auth), *pid, offset);
    }
  }
  create_socket(*nsp, std::move(auth), std::nullopt);
}

bool Client::restoring(std::string_view nsp) const {
  return rare_ &&
         std::find(rare_->restoring.begin(), rare_->restoring.end(), nsp) != rare_->restoring.end();
}

void Client::request_restore(Namespace& nsp, std::string auth, const std::string& pid,
                             const std::string& offset) {
  // A socket of that session still looks alive: its transport died unnoticed.
  // It leaves first, saving its session, so that its late ping timeout cannot
  // close the restored socket (socket.io #4880).
  if (Socket* old = nsp.socket_by_pid(pid))
    old->client().close(engineio::CloseReason::TransportClose);
  Rare& rare = this->rare();
  if (!rare.self) rare.self = std::make_shared<Client*>(this);
  rare.restoring.push_back(nsp.name());
  std::weak_ptr<Client*> self = rare.self;
  nsp.session_store()->restore(
      nsp.name(), pid, offset,
      [self, nsp = &nsp, auth = std::move(auth)](std::optional<RestoredSession> restored) mutable {
        std::shared_ptr<Client*> client = self.lock();
        if (client && *client) (*client)->on_restored(*nsp, std::move(auth), std::move(restored));
      });
}

void Client::on_restored(Namespace& nsp, std::string auth,
                         std::optional<RestoredSession> restored) {
  if (rare_) std::erase(rare_->restoring, nsp.name());
  if (closed_) return;  // the session stays in the store for the next attempt
  // Two attempts with one pid: the first one took the id.
  if (restored && nsp.find_socket(restored->session.sid) != nullptr) restored.reset();
  create_socket(nsp, std::move(auth), std::move(restored));
}

void Client::create_socket(Namespace& nsp, std::string auth,
                           std::optional<RestoredSession> restored) {
  std::string id = legacy_ ? v4::socket_id(nsp.name(), connection_.id()) : engineio::generate_id();
  auto owned = std::make_unique<Socket>(nsp, *this, std::move(id), std::move(auth));
  Socket& socket = *owned;
  if (restored) {
    socket.restore_session(std::move(*restored));
  } else if (SessionStore* store = nsp.session_store()) {
    socket.start_session(engineio::generate_id(), store->head(nsp.name()));
  }
  if (!nsp.admit(socket)) {
    socket.teardown(DisconnectReason::ForcedClose);
    rare().retired.push_back(std::move(owned));
    return;
  }
  sockets_.add(std::move(owned));
  // Not from the timer's own callback (only a protocol 4 client's connects).
  if (legacy_)
    connect_timer_->disarm();
  else
    connect_timer_.reset();
  nsp.connect(socket);
}

}  // namespace daheim::socketio
