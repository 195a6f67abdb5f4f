// Handlers for the socket.io-client end-to-end suite (testHandler
// "socketio-e2e"): commands a test client sends to make the server join
// rooms, broadcast, emit with acks, disconnect it, and so on.
#pragma once

#include "socketio/server.hpp"

namespace daheim::app {

void install_e2e_handlers(socketio::Server& io);

}  // namespace daheim::app
