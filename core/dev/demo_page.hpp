// The demo page at "/" (built into the binary) and the socket.io client
// script at "<path>socket.io.min.js", served from the npm package as Node's
// server does (serveClient).
#pragma once

#include <string>

#include "transport/server.hpp"

namespace daheim::dev {

struct DemoConfig {
  bool enabled = false;
  // The socket.io-client browser bundle; empty: not served.
  std::string client_script;
};

// Returns false and fills `error` when the client script cannot be read.
bool install_demo(transport::Server& server, const DemoConfig& demo, const std::string& eio_path,
                  std::string& error);

}  // namespace daheim::dev
