// Plugins in the server configuration and at start-up:
//
//   "pluginDir": "/usr/lib/x86_64-linux-gnu/daheim-live/plugins",  // default: the SDK's plugindir
//   "plugins": [ { "path": "lessons.so", "config": { ... } }, ... ],
//   "pluginHost": { "maxPendingCallsPerSocket": 16384 }   // read in config.cpp
//
// A relative `path` is looked up in pluginDir; a relative pluginDir is
// relative to the config file's directory. Plugins load in list order; the
// first that fails stops the start-up (one line, exit status 78).
#pragma once

#include <cjson/cJSON.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "loop/inbox.hpp"
#include "plugin/host.hpp"
#include "socketio/server.hpp"

namespace daheim::app {

struct PluginsConfig {
  std::string dir;                          // pluginDir as written; empty: the default
  std::vector<plugin::PluginSpec> plugins;  // paths as written
  plugin::HostOptions host;                 // "pluginHost"
};

// For the config reader: the values of the root keys "pluginDir" and
// "plugins" (either may be null when absent). false: `key` and `message` say
// what is wrong.
bool read_plugins_config(const cJSON* plugin_dir, const cJSON* plugins, PluginsConfig& out,
                         std::string& key, std::string& message);

// The directory relative plugin paths are looked up in.
std::string plugin_directory(const PluginsConfig& config, const std::string& config_source);

// Loads the configured plugins and, if there is any method (a plugin's or
// one `prepare` added), dispatches the namespaces' sockets and events to
// the host (replacing their catch-all event handler). `prepare` runs before
// the plugins load: add server methods and the user lookup there. Null on
// failure (logged as one line: exit with kExitConfig).
// Call it after transport::Server::start() (plugins may arm timers) and
// keep the result in a variable declared after the server, so that the
// plugins shut down before the transport goes.
std::unique_ptr<plugin::Host> start_plugins(const PluginsConfig& config,
                                            const std::string& config_source,
                                            const std::vector<std::string>& namespaces,
                                            socketio::Server& io, loop::Inbox& inbox,
                                            const std::function<void(plugin::Host&)>& prepare = {});

}  // namespace daheim::app
