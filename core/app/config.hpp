// The server's configuration: one JSON file (comments allowed), read strictly:
// an unknown or mistyped key is an error naming the file and the key.
#pragma once

#include <string>

#include <vector>

#include "admin/admin_options.hpp"
#include "app/cluster_config.hpp"
#include "app/plugin_setup.hpp"
#include "auth_middleware/auth_config.hpp"
#include "dev/demo_page.hpp"
#include "log/log.hpp"
#include "socketio/options.hpp"
#include "transport/engineio_endpoint.hpp"
#include "transport/server.hpp"

namespace daheim::app {

struct Config {
  std::string source = "<embedded default>";
  log::Level log_level = log::Level::Info;
  transport::ServerOptions server;
  transport::EndpointOptions endpoint;
  socketio::Options socketio;
  std::vector<std::string> namespaces{"/"};
  auth_middleware::AuthConfig auth;
  dev::DemoConfig demo;
  PluginsConfig plugins;
  ClusterConfig cluster;      // enabled: a node of a cluster over Redis
  admin::AdminOptions admin;  // the Socket.IO admin UI's server side
  // Worker processes sharing the ports (SO_REUSEPORT), each a cluster node;
  // above 1 this process supervises them (app/supervisor.hpp).
  int workers = 1;
  // Built-in fixtures for the official suites: "engineio-echo" (bare
  // Engine.IO echo) or "socketio-conformance".
  std::string test_handler;
};

struct ConfigError {
  std::string file;
  std::string key;  // dotted path, empty for the whole file
  std::string message;
  std::string to_string() const;
};

// The base every config file is read over: 127.0.0.1:3000, /socket.io/,
// the reference's limits, no authentication.
Config default_config();
// What runs without --config: the base plus development authentication
// (a well-known HS256 secret).
Config embedded_config();
// Reads `path` over the defaults. Returns false and fills `error` on failure.
bool load_config(const std::string& path, Config& config, ConfigError& error);
// Parses "HOST:PORT" ("[::1]:3000" for IPv6).
bool parse_listen(const std::string& text, std::string& host, int& port);

}  // namespace daheim::app
