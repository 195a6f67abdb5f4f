#!/usr/bin/env bash
# Brings this machine to the point where daheim-live builds and its tests run:
# installs the Debian packages that are missing (and only those), installs the
# Node.js test clients from package-lock.json, configures the meson build
# directory if there is none, and builds. Running it again does nothing new.
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf 'setup: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    log "need root to run: $*"
    exit 1
  fi
}

installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

# 1. Debian packages.
pkgs=(
  g++ meson ninja-build pkg-config git
  libwebsockets-dev libwebsockets-evlib-ev libssl-dev libcjson-dev
  libboost-dev libfmt-dev libsystemd-dev libcurl4-openssl-dev
  libhiredis-dev libmsgpack-cxx-dev redis-server
  util-linux   # setpriv: what a test starts dies with the test process (tests/e2e/lib/spawn.mjs)
  haproxy   # tests: sessions served by any node behind a round-robin balancer
  googletest libgtest-dev libgmock-dev
  chromium
  clang libclang-rt-14-dev   # scripts/fuzz.sh (libFuzzer, ASan, UBSan)
  ccache                     # meson compiles through it when installed: a fresh build directory
                             # of a tree compiled before (a CI machine that keeps ~/.cache/ccache)
                             # is mostly cache hits
)
# Node.js is usually there already (node 20); take Debian's only if it is not.
if ! command -v node >/dev/null 2>&1; then
  pkgs+=(nodejs npm)
elif ! command -v npm >/dev/null 2>&1; then
  pkgs+=(npm)
fi

missing=()
for p in "${pkgs[@]}"; do
  installed "$p" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing: ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# 2. Node.js test clients, exactly as locked. Skipped when node_modules was
#    installed from this very lockfile.
lock_sum=$(sha256sum package-lock.json | cut -d' ' -f1)
stamp=node_modules/.daheim-lock-sha256
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
  log "npm ci"
  npm ci --no-audit --no-fund --loglevel=error
  printf '%s\n' "$lock_sum" > "$stamp"
fi

# 3. Configure (once) and build.
if [ ! -f build/build.ninja ]; then
  log "meson setup build"
  meson setup build
fi
ninja -C build
