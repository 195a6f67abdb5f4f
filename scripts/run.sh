#!/usr/bin/env bash
# Installs what is missing, builds, then runs daheim-live in the foreground on
# its embedded default configuration: http://127.0.0.1:3000/ serves the demo
# page, /socket.io/ the realtime endpoint, with development authentication.
# Prints a few development tokens to paste into the demo page.
# Extra arguments go to the server, e.g. ./scripts/run.sh --listen 0.0.0.0:3000
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh
bin=./build/core/app/daheim-live
echo "Development tokens (valid for 8 hours):"
for who in teacher:tina teacher:theo student:sam student:sara; do
  role=${who%%:*} sub=${who#*:}
  printf '  %-8s %-5s %s\n' "$role" "$sub" "$("$bin" token --sub "$sub" --role "$role" --ttl 8h)"
done
echo "Push credential (Authorization: Bearer ...): daheim-live-development-push-secret-never-in-production"
echo "Demo page: http://127.0.0.1:3000/"
exec "$bin" "$@"
