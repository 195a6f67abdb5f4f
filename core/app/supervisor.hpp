// `workers` > 1: this process supervises that many worker processes, each a
// full server and a node of the cluster, sharing the listening ports through
// SO_REUSEPORT (the kernel spreads the connections). Workers report to the
// supervisor as they would to systemd (READY=1, WATCHDOG=1 on a socket of
// its own); the supervisor is what systemd sees: READY=1 once every worker
// is, its own watchdog pings while the workers ping theirs, SIGHUP and
// SIGTERM passed on to every worker. A worker that dies is started again
// (its clients reconnect to the others meanwhile); one that stops pinging
// the watchdog is killed and started again.
#pragma once

#include "app/config.hpp"
#include "app/fixtures.hpp"

namespace daheim::app {

// Returns the process exit status. `fixtures` as run_daemon's (null in the
// production binary).
int run_supervisor(Config config, const Fixtures* fixtures);

}  // namespace daheim::app
