// One per Engine.IO session (socket.io's Client): decodes packets and
// multiplexes them over the namespaces the client joined. Implements the
// Engine.IO handler seam; created by Server::make_client().
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "engineio/handler.hpp"
#include "loop/timer.hpp"
#include "socketio/decoder.hpp"
#include "socketio/disconnect_reason.hpp"
#include "socketio/encoder.hpp"
#include "socketio/owned_sockets.hpp"
#include "socketio/session_store.hpp"

namespace daheim::socketio {

class Namespace;
class Server;
class Socket;

class Client final : public engineio::Handler {
 public:
  Client(Server& server, engineio::Connection& connection);
  ~Client() override;
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  // engineio::Handler
  void on_message(std::string_view text) override;
  void on_binary(std::string_view data) override;
  void on_close(engineio::CloseReason reason) override;

  engineio::Connection& connection() const { return connection_; }
  Server& server() const { return server_; }
  // The Engine.IO connection closed (or is closing).
  bool closed() const { return closed_; }
  // A Socket.IO protocol 4 client (Engine.IO 3, socket.io-client 2.x).
  bool legacy() const { return legacy_; }
  // The socket this client has in namespace `nsp`, or null.
  Socket* socket(std::string_view nsp) const;
  std::size_t socket_count() const { return sockets_.size(); }

  bool send(const EncodedPacket& packet);
  // Closes the Engine.IO connection; sockets see the matching reason.
  void close(engineio::CloseReason reason);
  // The client broke the protocol's state rules (or joined nothing in time):
  // sockets see "forced server close", then the connection closes.
  void close_forced_server();
  // Every socket sends DISCONNECT and leaves, then the connection closes.
  void disconnect_all();
  // For Socket::teardown: keep the socket until it is safe to free it.
  void detach(Socket& socket);
  // The server sent DISCONNECT for `nsp`: what the client sent before it
  // learnt so is dropped (up to kMaxAfterDisconnect packets) instead of
  // closing the connection as for a namespace never joined.
  void note_server_disconnect(std::string_view nsp);
  static constexpr uint32_t kMaxAfterDisconnect = 4096;

 private:
  void teardown_sockets(DisconnectReason why);
  void dispatch(Packet& packet);
  void connect(const Packet& packet);
  void request_restore(Namespace& nsp, std::string auth, const std::string& pid,
                       const std::string& offset);
  void on_restored(Namespace& nsp, std::string auth, std::optional<RestoredSession> restored);
  void create_socket(Namespace& nsp, std::string auth, std::optional<RestoredSession> restored);
  bool restoring(std::string_view nsp) const;
  void connect_main();
  bool within_limits(const Packet& packet);
  bool drop_after_disconnect(const Packet& packet);
  void on_event(Socket& socket, Packet& packet);

  Server& server_;
  engineio::Connection& connection_;
  Decoder decoder_;
  // The CONNECT timeout; for protocol 4 clients, the join of "/" they get
  // unasked once the session is open. A protocol 5 client's goes with its
  // first socket: a connected client keeps none.
  std::unique_ptr<loop::Timer> connect_timer_;
  OwnedSockets sockets_;
  struct Departed {
    std::string nsp;
    uint32_t dropped = 0;
  };
  // What few clients use, allocated on first use: an idle client keeps one
  // pointer for it instead of four containers.
  struct Rare {
    // Sockets that left; freed when the next message arrives (no Socket& of
    // the application can be alive then) or with the Client.
    std::vector<std::unique_ptr<Socket>> retired;
    // Namespaces whose CONNECT waits for the session store's answer.
    std::vector<std::string> restoring;
    // Lets a late answer of the store find out that the Client is gone.
    std::shared_ptr<Client*> self;
    std::vector<Departed> departed;  // note_server_disconnect()
  };
  Rare& rare();
  void free_retired();
  std::unique_ptr<Rare> rare_;
  bool legacy_;  // beside closed_: one padded word for both
  bool closed_ = false;
};

}  // namespace daheim::socketio
