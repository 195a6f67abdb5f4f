#include "testing/conformance_handlers.hpp"

#include <string>

#include "socketio/namespace.hpp"
#include "socketio/socket.hpp"

namespace daheim::testing {

void install_conformance_handlers(socketio::Server& io) {
  auto emit_auth = [](socketio::Socket& s) { s.emit("auth", "[" + std::string(s.auth()) + "]"); };
  auto echo = [](socketio::Socket& s, socketio::Event& e) {
    if (e.name == "message") s.emit("message-back", e.args, e.attachments);
    if (e.name == "message-with-ack" && e.ack_id) s.ack(*e.ack_id, e.args, e.attachments);
  };
  for (const char* name : {"/", "/custom"}) {
    io.of(name).on_connection(emit_auth);
    io.of(name).on_event(echo);
  }
}

}  // namespace daheim::testing
