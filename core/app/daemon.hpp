// The running server: owns the loop's timer queue, the Socket.IO server, the
// Engine.IO endpoint and the listener, and handles SIGTERM (graceful drain),
// SIGHUP (reload) and systemd notification.
#pragma once

#include <atomic>

#include "app/config.hpp"

namespace daheim::app {

// Returns the process exit status.
int run_daemon(Config config);

}  // namespace daheim::app
