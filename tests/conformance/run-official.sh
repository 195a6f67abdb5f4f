#!/usr/bin/env bash
# Runs the official protocol test suites of the Socket.IO authors against
# daheim-live:
#
#   tests/conformance/run-official.sh [engineio] [socketio]     (default: both)
#
# The suites are not part of this repository (their repositories carry no
# licence): only their test-suite.js is read, from a git snapshot of each
# repository. Their dependencies (mocha, chai, chai-string, node-fetch, ws)
# are the repository's own, pinned in package-lock.json (`npm ci`); nothing
# is fetched while the tests run.
#
# Environment:
#   EIO_SNAP, SIO_SNAP     git dir of an engine.io-protocol / socket.io-protocol
#                          snapshot; default: CONFORMANCE_SNAPSHOTS/socketio+NAME/repo
#   CONFORMANCE_SNAPSHOTS  where snapshots are looked for (default /work/.mirror,
#                          where the search tool's `fetch` puts them)
#   DAHEIM_LIVE_BIN        server binary (default build/core/app/daheim-live-test:
#                          the Engine.IO suite's echo is a test fixture)
#   DAHEIM_PLUGINS_DIR     the build's plugins/ (default build/plugins): the
#                          Socket.IO suite loads plugins/conformance from it
#   CONFORMANCE_DIR        scratch directory (default build/conformance)
#   CONFORMANCE_PORT       port on 127.0.0.1 (default: a free one; the server
#                          is started on port 0 and its readiness line names it)
#   CONFORMANCE_POLLING_HTTP  engineio.pollingHttp in the suite's config: "own"
#                          (the default: long-polling on our own HTTP/1.1
#                          handling) or "lws" (on libwebsockets')
#   CONFORMANCE_LB         1: through haproxy (round robin, no stickiness) in
#                          front of three nodes on one redis-server
#                          (tests/conformance/lb-cluster.mjs)
#
# Each suite: test-suite.js is extracted next to a Node shim of ours that
# delivers one WebSocket message per macrotask, as a browser does (the tests
# are not touched; their URL is pointed at the chosen port). The server is
# started with the matching config and stopped after mocha. One line per
# suite says how many tests passed, with the failing tests' names, followed
# by "# pass N" / "# fail N" for scripts/test.sh's count.
# Exit status: 0 when every suite passed completely, 1 when one did not, 77
# (meson's "skipped") when a suite's snapshot is not on this machine.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
bin=${DAHEIM_LIVE_BIN:-$root/build/core/app/daheim-live-test}
plugins=${DAHEIM_PLUGINS_DIR:-$root/build/plugins}
work=${CONFORMANCE_DIR:-$root/build/conformance}
snapshots=${CONFORMANCE_SNAPSHOTS:-/work/.mirror}

die() {
  echo "run-official: $*" >&2
  exit 2
}

[ -x "$bin" ] || die "no server binary at $bin (build first: ninja -C build)"
[ -x "$root/node_modules/.bin/mocha" ] || die "mocha is not installed (npm ci)"
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

# snapshot REPO OVERRIDE: the git dir to read, or nothing when there is none.
snapshot() {
  local dir=${2:-$snapshots/socketio+$1/repo}
  [ -d "$dir/.git" ] && dir=$dir/.git
  git --git-dir="$dir" rev-parse --verify -q HEAD:test-suite/test-suite.js >/dev/null 2>&1 &&
    echo "$dir"
}

# prepare NAME GIT_DIR: the suite's tests beside our shim, resolving the
# repository's node_modules.
prepare() {
  local dir=$work/$1
  rm -rf "$dir"
  mkdir -p "$dir"
  git --git-dir="$2" show HEAD:test-suite/test-suite.js >"$dir/test-suite.js"
  echo '{ "private": true, "type": "module" }' >"$dir/package.json"
  ln -s "$root/node_modules" "$dir/node_modules"
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
}

# config NAME: the suite's config, plugin folder taken from DAHEIM_PLUGINS_DIR.
config() {
  local mode=${CONFORMANCE_POLLING_HTTP:-own}
  sed -e "s#\"pluginDir\": *\"[^\"]*\"#\"pluginDir\": \"$plugins/conformance\"#" \
    -e "s#\"engineio\": *{#\"engineio\": { \"pollingHttp\": \"$mode\",#" \
    "$here/$1.json" >"$work/$1.json"
  echo "$work/$1.json"
}

# start_server CONFIG LOG: starts the server and waits for its readiness
# line; sets port.
start_server() {
  local config=$1 log=$2
  # Emptied here, not only by the server's redirection: that happens in the
  # child, and the wait below could read the last run's readiness line (and
  # its port) before it.
  : >"$log"
  # Under `setpriv --pdeathsig KILL`: killed with this script, however it
  # ends (lb-cluster.mjs ties its own haproxy, nodes and redis-server to it).
  if [ "${CONFORMANCE_LB:-}" = 1 ]; then
    DAHEIM_LIVE_BIN=$bin setpriv --pdeathsig KILL node "$here/lb-cluster.mjs" "$config" \
      "${CONFORMANCE_PORT:-0}" 2>"$log" &
  else
    setpriv --pdeathsig KILL "$bin" --config "$config" --listen "127.0.0.1:${CONFORMANCE_PORT:-0}" \
      2>"$log" &
  fi
  server_pid=$!
  local deadline=$((SECONDS + 60))
  until grep -q 'listening on http://' "$log"; do
    if ! kill -0 "$server_pid" 2>/dev/null || [ "$SECONDS" -ge "$deadline" ]; then
      echo "run-official: the server did not start (its log follows):" >&2
      cat "$log" >&2
      return 1
    fi
    sleep 0.05
  done
  port=$(sed -n 's#.*listening on http://127\.0\.0\.1:\([0-9]*\).*#\1#p' "$log" | head -1)
  [ -n "$port" ] || { cat "$log" >&2; return 1; }
}

# run_suite LABEL NAME CONFIG EXPECTED_TESTS: 0 when every test passed.
run_suite() {
  local label=$1 name=$2 config=$3 expected=$4
  local dir=$work/$name out=$work/$name.json log=$work/$name.server.log
  rm -f "$out"
  if ! start_server "$config" "$log"; then
    printf '%s suite: 0/%s passing (server did not start)\n# pass 0\n# fail %s\n' \
      "$label" "$expected" "$expected"
    return 1
  fi
  sed -i "s#http://localhost:3000#http://127.0.0.1:$port#" "$dir/test-suite.js"
  (cd "$dir" && timeout 120 "$root/node_modules/.bin/mocha" test-suite.js --reporter json \
    --reporter-option "output=$out" >"$work/$name.mocha.out" 2>&1) || true
  stop_server
  if [ ! -s "$out" ]; then
    printf '%s suite: 0/%s passing (mocha wrote no report):\n' "$label" "$expected"
    cat "$work/$name.mocha.out"
    printf '# pass 0\n# fail %s\n' "$expected"
    return 1
  fi
  # shellcheck disable=SC2016 # the JavaScript below is not shell
  node -e '
    const r = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const expected = Number(process.argv[2]);
    const s = r.stats;
    let line = `${process.argv[3]} suite: ${s.passes}/${expected} passing`;
    if (s.tests !== expected) line += ` (mocha counted ${s.tests} tests)`;
    if (s.failures) line += `, ${s.failures} failing`;
    if (s.pending) line += `, ${s.pending} pending`;
    console.log(line);
    for (const f of r.failures) {
      const msg = String((f.err && f.err.message) || "").split("\n")[0];
      console.log(`  failing: ${f.fullTitle}${msg ? " -- " + msg : ""}`);
    }
    console.log(`# pass ${s.passes}\n# fail ${Math.max(s.failures, expected - s.passes)}`);
    process.exitCode = s.failures === 0 && s.passes === expected ? 0 : 1;
  ' "$out" "$expected" "$label"
}

suites=("$@")
[ ${#suites[@]} -gt 0 ] || suites=(engineio socketio)
ran=0 failed=0
for suite in "${suites[@]}"; do
  case $suite in
    engineio) label=engine.io repo=engine.io-protocol var=EIO_SNAP expected=24 ;;
    socketio) label=socket.io repo=socket.io-protocol var=SIO_SNAP expected=32 ;;
    *) die "unknown suite '$suite' (engineio or socketio)" ;;
  esac
  if ! git_dir=$(snapshot "$repo" "${!var:-}"); then
    echo "$label suite: skipped: no snapshot of $repo (set $var to its git dir, or fetch it into $snapshots)"
    continue
  fi
  ran=$((ran + 1))
  prepare "$repo" "$git_dir"
  run_suite "$label" "$repo" "$(config "$suite")" "$expected" || failed=$((failed + 1))
done
[ "$failed" -eq 0 ] || exit 1
[ "$ran" -gt 0 ] || exit 77
