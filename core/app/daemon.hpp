// The running server: owns the loop's timer queue, the Socket.IO server, the
// Engine.IO endpoint and the listener, and handles SIGTERM (graceful drain),
// SIGHUP (reload) and systemd notification.
#pragma once

#include <atomic>

#include "app/config.hpp"
#include "app/fixtures.hpp"

namespace daheim::app {

// Returns the process exit status. `fixtures`: the test fixtures this binary
// carries (null in daheim-live).
int run_daemon(Config config, const Fixtures* fixtures);

}  // namespace daheim::app
