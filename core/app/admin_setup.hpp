// Wires the admin UI's server side (core/admin) into the daemon: made right
// after the Socket.IO server (so it outlives every session), started once
// the namespaces and a cluster's adapters are set up, its files served at
// admin.uiPath on the listeners that serve "admin", its counters on /metrics.
#pragma once

#include <memory>
#include <string>

#include "admin/admin.hpp"
#include "app/config.hpp"

namespace daheim::ops {
class Monitoring;
}

namespace daheim::app {

// Null when admin is off.
std::unique_ptr<admin::Admin> make_admin(const Config& config, socketio::Server& io);

// Starts it and serves the UI's files. false with `error` set: the files
// could not be read.
bool start_admin(admin::Admin& admin, const transport::EngineIoEndpoint& endpoint,
                 transport::Server& server, ops::Monitoring& monitoring, std::string& error);

}  // namespace daheim::app
