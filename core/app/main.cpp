// daheim-live: the realtime server. Reads the configuration, wires the
// Engine.IO endpoint to its upper layer and runs the libwebsockets loop.
#include <csignal>
#include <cstdio>
#include <memory>

#include "app/cli.hpp"
#include "app/config.hpp"
#include "app/conformance_handlers.hpp"
#include "app/e2e_handlers.hpp"
#include "app/echo_handler.hpp"
#include "daheim_version.h"
#include "log/log.hpp"
#include "socketio/server.hpp"
#include "transport/server.hpp"

namespace daheim::app {
namespace {

transport::Server* g_server = nullptr;

void on_stop_signal(int) {
  if (g_server) g_server->request_stop();
}

transport::HandlerFactory make_factory(const Config& config, socketio::Server& io) {
  if (config.test_handler == "engineio-echo")
    return [](engineio::Connection& c) { return std::make_unique<EchoHandler>(c); };
  return [&io](engineio::Connection& c) { return io.make_client(c); };
}

void declare_namespaces(const Config& config, socketio::Server& io) {
  for (const auto& name : config.namespaces) io.of(name);
  if (config.test_handler == "socketio-conformance") install_conformance_handlers(io);
  if (config.test_handler == "socketio-e2e") install_e2e_handlers(io);
}

int serve(Config config) {
  log::set_level(config.log_level);
  transport::LwsTimerQueue timers;
  // Declared before the endpoint: Socket.IO clients live in its sessions.
  socketio::Server io(timers, config.socketio);
  declare_namespaces(config, io);
  transport::EngineIoEndpoint endpoint(config.endpoint, make_factory(config, io), timers);
  transport::Server server(config.server, endpoint, timers);
  if (std::string err = server.start(); !err.empty()) {
    log::error("{}", err);
    return 1;
  }
  g_server = &server;
  std::signal(SIGTERM, on_stop_signal);
  std::signal(SIGINT, on_stop_signal);
  std::signal(SIGPIPE, SIG_IGN);
  log::notice("daheim-live {} ({}) listening on http://{}:{}{}", DAHEIM_VERSION, config.source,
              config.server.host.find(':') == std::string::npos ? config.server.host
                                                                : "[" + config.server.host + "]",
              server.port(), config.endpoint.path);
  server.run();
  g_server = nullptr;
  log::notice("stopped");
  return 0;
}

int main_impl(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  std::string error;
  auto parsed = parse_arguments(args, error);
  if (!parsed) {
    std::fprintf(stderr, "daheim-live: %s\n%s", error.c_str(), usage());
    return kExitUsage;
  }
  if (parsed->command == Arguments::Command::Help) {
    std::fputs(usage(), stdout);
    return 0;
  }
  if (parsed->command == Arguments::Command::Version) {
    std::printf("daheim-live %s\n", DAHEIM_VERSION);
    return 0;
  }
  Config config = default_config();
  ConfigError cerr;
  if (parsed->config_path && !load_config(*parsed->config_path, config, cerr)) {
    std::fprintf(stderr, "daheim-live: %s\n", cerr.to_string().c_str());
    return kExitConfig;
  }
  if (parsed->command == Arguments::Command::CheckConfig) {
    std::printf("%s: ok\n", parsed->config_path->c_str());
    return 0;
  }
  if (parsed->listen &&
      !parse_listen(*parsed->listen, config.server.host, config.server.port)) {
    std::fprintf(stderr, "daheim-live: --listen expects HOST:PORT, got %s\n%s",
                 parsed->listen->c_str(), usage());
    return kExitUsage;
  }
  return serve(std::move(config));
}

}  // namespace
}  // namespace daheim::app

int main(int argc, char** argv) { return daheim::app::main_impl(argc, argv); }
