// Handlers for the socket.io-client end-to-end suite (testHandler
// "socketio-e2e"): commands a test client sends to make the server join
// rooms, broadcast, emit with acks, disconnect it, and so on. Test code:
// linked into daheim-live-test only, never into daheim-live. The command
// protocol is described in e2e_handlers.cpp and used by
// tests/e2e/socketio*.test.mjs.
#pragma once

#include "socketio/server.hpp"

namespace daheim::testing {

// Installs the fixture on the namespaces "/" and "/custom".
void install_e2e_handlers(socketio::Server& io);

}  // namespace daheim::testing
