#!/usr/bin/env bash
# The test suites again on sanitizer builds, each in its own build directory:
#   ./scripts/sanitize.sh asan   build-asan/: ASan+UBSan (gcc), leaks reported, UBSan fatal;
#                                runs the unit and ABI suites and the e2e areas in ASAN_E2E
#   ./scripts/sanitize.sh tsan   build-tsan/: TSan, only the plugin cross-thread tests (the host's
#                                task queue and deferred calls, the SDK's WorkerPool / Promise /
#                                Reply / CallRegistry, the fake host): suites in TSAN_TESTS
#   ./scripts/sanitize.sh        both: the two builds one after the other (each uses every core),
#                                then the two runs at once
# Each build builds only what its tests need. Exits non-zero when a test failed or a sanitizer
# reported anything. Logs: BUILD/meson-logs/testlog.txt.
set -euo pipefail
cd "$(dirname "$0")/.."

ASAN_E2E=${ASAN_E2E:-e2e-socketio e2e-engineio e2e-plugins e2e-auth e2e-push e2e-lb}
# `loop` (the loop's cross-thread inbox) exists once core/loop has landed; absent names are skipped.
TSAN_TESTS=${TSAN_TESTS:-loop plugin presence}

# ASan: leaks are errors; a report ends the process with a failure status. UBSan stops at the first
# report (the code is also built with -fno-sanitize-recover).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1}

# Runs a build command quietly; when it fails, shows the end of its output (the compiler's error).
quiet() {
  local out
  if ! out=$("$@" 2>&1); then
    printf '%s\n' "$out" | tail -n 80 >&2
    echo "sanitize.sh: failed: $*" >&2
    return 1
  fi
}

setup() {  # BUILD SANITIZER
  if [ -f "$1/build.ninja" ]; then
    quiet ninja -C "$1" build.ninja  # reconfigures if meson files changed: fresh test lists
    return 0
  fi
  # -O1, as the sanitizers advise (whole frames in reports); these builds are
  # the longest part of CI, and -O1 compiles faster than -O2.
  quiet meson setup "$1" -Db_sanitize="$2" -Db_lundef=false -Doptimization=1 \
    -Dcpp_args=-fno-sanitize-recover=undefined -Dc_args=-fno-sanitize-recover=undefined
}

# Builds what the named meson tests need: their executables and `depends`.
build_for() {  # BUILD TEST...
  local build=$1
  shift
  local outputs
  outputs=$(python3 - "$build" "$@" <<'PY'
import json, os, subprocess, sys
build, names = sys.argv[1], set(sys.argv[2:])
info = os.path.join(build, 'meson-info')
tests = json.load(open(os.path.join(info, 'intro-tests.json')))
targets = {t['id']: t for t in json.load(open(os.path.join(info, 'intro-targets.json')))}
out = set()
for t in tests:
    if t['name'] not in names:
        continue
    for dep in t['depends']:
        for f in targets[dep]['filename']:
            out.add(os.path.relpath(f, build))
    for f in t['cmd'][:1]:
        if f.startswith(os.path.abspath(build)):
            out.add(os.path.relpath(f, build))
print('\n'.join(sorted(out)))
PY
)
  # shellcheck disable=SC2086 # one output path per word
  quiet ninja -C "$build" $outputs
}

run_suites() {  # BUILD TEST...
  local build=$1
  shift
  meson test -C "$build" --no-rebuild --print-errorlogs "$@"
}

build_asan() { setup build-asan address,undefined && read -ra t <<<"$ASAN_E2E" &&
  build_for build-asan "${t[@]}" $(unit_tests build-asan); }
build_tsan() { setup build-tsan thread && build_for build-tsan $(existing build-tsan $TSAN_TESTS); }

existing() {  # BUILD NAME...: the names that are meson tests in BUILD
  python3 - "$@" <<'PY'
import json, os, sys
tests = json.load(open(os.path.join(sys.argv[1], 'meson-info', 'intro-tests.json')))
names = {t['name'] for t in tests}
print(' '.join(n for n in sys.argv[2:] if n in names))
PY
}

unit_tests() {  # BUILD: the names of the unit and abi tests
  python3 - "$1" <<'PY'
import json, os, sys
tests = json.load(open(os.path.join(sys.argv[1], 'meson-info', 'intro-tests.json')))
print(' '.join(t['name'] for t in tests if set(t['suite']) & {'daheim-live:unit', 'daheim-live:abi'}))
PY
}

run_asan() {
  local names
  read -ra names <<<"$ASAN_E2E"
  run_suites build-asan $(unit_tests build-asan) "${names[@]}"
}
run_tsan() {
  # shellcheck disable=SC2086 # a list of names
  run_suites build-tsan $(existing build-tsan $TSAN_TESTS)
}

case "${1:-all}" in
  asan) build_asan && run_asan ;;
  tsan) build_tsan && run_tsan ;;
  all)
    build_asan
    build_tsan
    status=0
    run_tsan >build-tsan/sanitize.log 2>&1 &
    tsan_pid=$!
    run_asan || status=$?
    wait "$tsan_pid" || { status=1; tail -80 build-tsan/sanitize.log; }
    grep -E '^(Ok|Fail|Timeout|Expected Fail|Unexpected Pass|Skipped):' build-tsan/sanitize.log |
      sed 's/^/tsan /'
    exit "$status"
    ;;
  *)
    echo "usage: $0 [asan|tsan|all]" >&2
    exit 64
    ;;
esac
