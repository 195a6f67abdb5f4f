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

# Counts individual test cases: GoogleTest's "[  PASSED  ] N" / "[  FAILED  ] N"
# and node's "ℹ pass N" / "ℹ fail N"; a suite that prints neither counts as one.
# shellcheck disable=SC2016 # the JavaScript below is not shell
summary=$(node -e '
  const fs = require("fs");
  let passed = 0, failed = 0, skipped = 0, suitesFailed = 0;
  const num = (re, s) => { const m = re.exec(s); return m ? Number(m[1]) : null; };
  for (const line of fs.readFileSync(process.argv[1], "utf8").split("\n")) {
    if (!line.trim()) continue;
    const t = JSON.parse(line);
    const out = t.stdout || "";
    const ok = t.result === "OK" || t.result === "EXPECTEDFAIL";
    if (t.result === "SKIP") { skipped++; continue; }
    const gp = num(/\[  PASSED  \] (\d+) test/, out), gf = num(/\[  FAILED  \] (\d+) test/, out);
    const np = num(/(?:ℹ|#) pass (\d+)/, out), nf = num(/(?:ℹ|#) fail (\d+)/, out);
    const ns = num(/(?:ℹ|#) skipped (\d+)/, out) || 0, nt = num(/(?:ℹ|#) todo (\d+)/, out) || 0;
    if (gp !== null || gf !== null) { passed += gp || 0; failed += gf || 0; }
    else if (np !== null) { passed += np; failed += nf || 0; skipped += ns + nt; }
    else if (ok) passed++;
    if (!ok) { suitesFailed++; if (gf === null && !nf) failed++; }
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
