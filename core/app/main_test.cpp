// daheim-live-test: daheim-live plus the test fixtures of core/testing
// (config key testHandler: the bare Engine.IO echo, the official socket.io
// suite's handlers, the e2e suite's commands). Built for the test suites and
// benchmarks only, never installed: one of its fixtures lets any client
// broadcast to everyone.
#include "app/entry.hpp"
#include "testing/conformance_handlers.hpp"
#include "testing/e2e_handlers.hpp"
#include "testing/echo_handler.hpp"

namespace {

using daheim::engineio::Connection;

daheim::transport::HandlerFactory engineio_factory(const std::string& name) {
  if (name != "engineio-echo") return {};
  return [](Connection& c) { return std::make_unique<daheim::testing::EchoHandler>(c); };
}

void install(const std::string& name, daheim::socketio::Server& io) {
  if (name == "socketio-conformance") daheim::testing::install_conformance_handlers(io);
  if (name == "socketio-e2e") daheim::testing::install_e2e_handlers(io);
}

}  // namespace

int main(int argc, char** argv) {
  static const daheim::app::Fixtures fixtures{engineio_factory, install};
  return daheim::app::run_main(argc, argv, &fixtures);
}
