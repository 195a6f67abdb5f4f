// The handlers the official socket.io protocol suite expects (testHandler
// "socketio-conformance"): on connect each namespace emits `auth` with the
// CONNECT payload; `message` is answered with `message-back` carrying the
// same arguments; `message-with-ack` is acked with its arguments.
#pragma once

#include "socketio/server.hpp"

namespace daheim::testing {

void install_conformance_handlers(socketio::Server& io);

}  // namespace daheim::testing
