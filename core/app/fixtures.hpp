// The seam through which a binary brings test fixtures (config key
// testHandler). The production `daheim-live` passes none, so a config naming
// one is refused there; `daheim-live-test` (main_test.cpp, built for the test
// suites only and never installed) passes the fixtures of core/testing.
#pragma once

#include "socketio/server.hpp"
#include "transport/engineio_endpoint.hpp"

namespace daheim::app {

struct Fixtures {
  // The Engine.IO handler for a fixture that replaces Socket.IO, or an empty
  // function when the fixture runs on Socket.IO.
  transport::HandlerFactory (*engineio_factory)(const std::string& name);
  // Installs a Socket.IO fixture's handlers on `io` (nothing for others).
  void (*install)(const std::string& name, socketio::Server& io);
};

}  // namespace daheim::app
