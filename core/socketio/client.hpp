// One per Engine.IO session (socket.io's Client): decodes packets and
// multiplexes them over the namespaces the client joined. Implements the
// Engine.IO handler seam; created by Server::make_client().
#pragma once

#include <memory>
#include <string_view>
#include <vector>

#include "engineio/handler.hpp"
#include "loop/timer.hpp"
#include "socketio/decoder.hpp"
#include "socketio/disconnect_reason.hpp"
#include "socketio/encoder.hpp"

namespace daheim::socketio {

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

 private:
  friend class Server;

  void teardown_sockets(DisconnectReason why);
  void dispatch(Packet& packet);
  void connect(const Packet& packet);
  void on_event(Socket& socket, Packet& packet);

  Server& server_;
  engineio::Connection& connection_;
  Decoder decoder_;
  loop::Timer connect_timer_;
  std::vector<std::unique_ptr<Socket>> sockets_;
  // Sockets that left; freed when the next message arrives (no Socket& of
  // the application can be alive then) or with the Client.
  std::vector<std::unique_ptr<Socket>> retired_;
  bool closed_ = false;
  Client* prev_ = nullptr;  // Server's list of clients
  Client* next_ = nullptr;
};

}  // namespace daheim::socketio
