#!/usr/bin/env bash
# Installs what is missing, builds, then runs daheim-live in the foreground on
# its embedded default configuration (http://127.0.0.1:3000/socket.io/).
# Extra arguments go to the server, e.g. ./scripts/run.sh --config etc/daheim-live.json
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
exec ./build/core/app/daheim-live "$@"
