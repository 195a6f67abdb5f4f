#!/usr/bin/env bash
# Installs what is missing, builds, runs every test suite (unit, e2e, ...)
# and ends with one line "N passed, N failed". Exits non-zero when a test
# failed or when no test ran. Extra arguments go to `meson test`
# (e.g. ./scripts/test.sh --suite e2e).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/setup.sh

testlog=build/meson-logs/testlog.json
rm -f "$testlog"
status=0
meson test -C build --print-errorlogs "$@" || status=$?

if [ ! -f "$testlog" ]; then
  echo "meson test wrote no $testlog (exit status $status)" >&2
  echo "0 passed, 1 failed"
  exit 1
fi

# shellcheck disable=SC2016 # the JavaScript below is not shell
summary=$(node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0;
  for (const line of fs.readFileSync(process.argv[1], "utf8").split("\n")) {
    if (!line.trim()) continue;
    const r = JSON.parse(line).result;
    if (r === "OK" || r === "EXPECTEDFAIL") passed++;
    else if (r === "SKIP") skipped++;
    else failed++;
  }
  process.stdout.write(`${passed} ${failed} ${skipped}`);
' "$testlog")
read -r passed failed skipped <<<"$summary"

if [ "$skipped" -gt 0 ]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
if [ "$status" -ne 0 ] || [ "$failed" -ne 0 ]; then
  exit 1
fi
if [ "$passed" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
