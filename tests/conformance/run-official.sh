#!/usr/bin/env bash
# Runs the official protocol test suites of the Socket.IO authors against
# daheim-live. The suites are not part of this repository: point EIO_SNAP
# and/or SIO_SNAP at git directories holding snapshots of the
# engine.io-protocol and socket.io-protocol repositories.
#
#   EIO_SNAP=/path/to/engine.io-protocol.git tests/conformance/run-official.sh
#   EIO_SNAP=... SIO_SNAP=... tests/conformance/run-official.sh
#
# Environment:
#   EIO_SNAP          git dir of an engine.io-protocol snapshot (runs the Engine.IO suite)
#   SIO_SNAP          git dir of a socket.io-protocol snapshot (runs the Socket.IO suite,
#                     only when tests/conformance/socketio.json exists)
#   DAHEIM_LIVE_BIN   server binary (default build/core/app/daheim-live-test: the
#                     Engine.IO suite's echo is a test fixture, not in daheim-live)
#   CONFORMANCE_DIR   scratch directory (default /tmp/conformance)
#   CONFORMANCE_PORT  port on 127.0.0.1 (default 3000, the suites' own default)
#   CONFORMANCE_LB    1: run the suites through haproxy (round robin, no
#                     stickiness) in front of three nodes on one redis-server
#                     (tests/conformance/lb-cluster.mjs), sessions served by
#                     any node
#
# Each suite's test-suite/ folder is extracted to the scratch directory, its
# locked dependencies installed with `npm ci`, ws upgraded to 8.18.3 and the
# suite's Node shim replaced by one that delivers one WebSocket message per
# macrotask, as a browser does (the suites' own tests are not touched). Then
# the server is started with the matching config, mocha runs with its JSON
# reporter, and one line per suite says how many tests passed.
# Exit status: 0 when every suite that ran passed completely.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${DAHEIM_LIVE_BIN:-$root/build/core/app/daheim-live-test}
work=${CONFORMANCE_DIR:-/tmp/conformance}
port=${CONFORMANCE_PORT:-3000}

die() {
  echo "run-official: $*" >&2
  exit 2
}

[ -n "${EIO_SNAP:-}${SIO_SNAP:-}" ] || die "set EIO_SNAP and/or SIO_SNAP to the git dir of a fetched snapshot"
[ -x "$bin" ] || die "no server binary at $bin (build first: ninja -C build)"
command -v npm >/dev/null || die "npm is needed"
mkdir -p "$work"

server_pid=
stop_server() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
    server_pid=
  fi
}
trap stop_server EXIT

# prepare NAME SNAPSHOT_GIT_DIR
prepare() {
  local name=$1 snap=$2 dir=$work/$1
  git --git-dir="$snap" rev-parse --verify -q HEAD >/dev/null || die "$snap is not a git dir with a HEAD"
  rm -rf "$dir"
  mkdir -p "$dir"
  git --git-dir="$snap" archive HEAD test-suite | tar -x -C "$dir" --strip-components=1
  (
    cd "$dir"
    npm ci --no-audit --no-fund --loglevel=error >/dev/null
    npm install --no-save --no-audit --no-fund --loglevel=error ws@8.18.3 >/dev/null
  )
  cat >"$dir/node-imports.js" <<'EOF'
import fetch from "node-fetch";
import { WebSocket as WsWebSocket } from "ws";
import chai from "chai";
import chaiString from "chai-string";
chai.use(chaiString);
// Browser-like delivery: one 'message' event per macrotask (ws >= 8.17).
class BrowserLikeWebSocket extends WsWebSocket {
  constructor(address, protocols, options) {
    super(address, protocols, { allowSynchronousEvents: false, ...options });
  }
}
globalThis.fetch = fetch;
globalThis.WebSocket = BrowserLikeWebSocket;
globalThis.chai = chai;
EOF
  sed -i "s#http://localhost:3000#http://127.0.0.1:$port#" "$dir/test-suite.js"
}

# start_server CONFIG LOG: starts the binary and waits for its readiness line.
start_server() {
  local config=$1 log=$2
  if [ "${CONFORMANCE_LB:-}" = 1 ]; then
    DAHEIM_LIVE_BIN=$bin node "$here/lb-cluster.mjs" "$config" "$port" 2>"$log" &
  else
    "$bin" --config "$config" --listen "127.0.0.1:$port" 2>"$log" &
  fi
  server_pid=$!
  local waited=0
  until grep -q 'listening on http://' "$log"; do
    if ! kill -0 "$server_pid" 2>/dev/null; then
      server_pid=
      echo "run-official: the server exited during start-up:" >&2
      cat "$log" >&2
      return 1
    fi
    waited=$((waited + 1))
    if [ "$waited" -gt 300 ]; then
      echo "run-official: the server was not ready after 15 s:" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.05
  done
}

failed_suites=0

# run_suite LABEL NAME CONFIG EXPECTED_TESTS
run_suite() {
  local label=$1 name=$2 config=$3 expected=$4
  local dir=$work/$name out=$work/$name.json log=$work/$name.server.log
  rm -f "$out"
  if ! start_server "$config" "$log"; then
    echo "$label suite: 0/$expected passing (server did not start)"
    failed_suites=$((failed_suites + 1))
    return
  fi
  (cd "$dir" && timeout 120 npx mocha test-suite.js --reporter json --reporter-option "output=$out" >"$work/$name.mocha.out" 2>&1) || true
  stop_server
  if [ ! -s "$out" ]; then
    echo "$label suite: 0/$expected passing (mocha wrote no report; see $work/$name.mocha.out)"
    failed_suites=$((failed_suites + 1))
    return
  fi
  local verdict
  # shellcheck disable=SC2016 # the JavaScript below is not shell
  verdict=$(node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const expected = Number(process.argv[2]);
    const label = process.argv[3];
    const s = r.stats;
    let line = `${label} suite: ${s.passes}/${expected} passing`;
    if (s.tests !== expected) line += ` (mocha counted ${s.tests} tests)`;
    if (s.failures) line += `, ${s.failures} failing`;
    if (s.pending) line += `, ${s.pending} pending`;
    console.log(line);
    for (const f of r.failures) {
      const msg = String(f.err && f.err.message || "").split("\n")[0];
      console.log(`  failing: ${f.fullTitle}${msg ? " -- " + msg : ""}`);
    }
    process.exitCode = s.failures === 0 && s.passes === expected ? 0 : 1;
  ' "$out" "$expected" "$label")  || failed_suites=$((failed_suites + 1))
  echo "$verdict"
}

if [ -n "${EIO_SNAP:-}" ]; then
  prepare engine.io-protocol "$EIO_SNAP"
  run_suite engine.io engine.io-protocol "$here/engineio.json" 24
fi

if [ -n "${SIO_SNAP:-}" ]; then
  if [ -f "$here/socketio.json" ]; then
    prepare socket.io-protocol "$SIO_SNAP"
    run_suite socket.io socket.io-protocol "$here/socketio.json" 32
  else
    echo "socket.io suite: skipped (no tests/conformance/socketio.json yet)"
  fi
fi

[ "$failed_suites" -eq 0 ]
