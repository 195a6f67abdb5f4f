#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang, ASan and UBSan in build-fuzz/ and fuzzes
# each for a bounded time:
#   ./scripts/fuzz.sh [SECONDS] [TARGET...]     (default 20 s, every target)
# FUZZ_JOBS targets run at once (default 2). New corpus entries are kept in
# build-fuzz/tests/fuzz/corpus-TARGET/ (the seeds in tests/fuzz/corpus/ are only read), so later
# runs go on from there. For each target it prints one line:
#   TARGET: N executions in S s, corpus C inputs, no findings
# and on a finding the crash report, the reproducer's path, and exits 1.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
shift || true
jobs=${FUZZ_JOBS:-2}
all=(jwt_fuzz engineio_fuzz socketio_fuzz json_fuzz http_fuzz http1_fuzz config_fuzz cluster_fuzz)
targets=("$@")
[ ${#targets[@]} -gt 0 ] || targets=("${all[@]}")

missing=()
command -v clang++ >/dev/null || missing+=(clang)
dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || missing+=(libclang-rt-14-dev)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ! -f build-fuzz/build.ninja ] || ! grep -q 'fuzzer-no-link' build-fuzz/build.ninja; then
  rm -rf build-fuzz
  CC=clang CXX=clang++ meson setup build-fuzz -Dfuzz=true -Db_sanitize=address,undefined \
    -Db_lundef=false >/dev/null
fi
if ! out=$(ninja -C build-fuzz "${targets[@]/#/tests/fuzz/}" 2>&1); then
  printf '%s\n' "$out" | tail -n 80 >&2
  echo "fuzz.sh: the fuzz build failed" >&2
  exit 1
fi

run_one() {
  local t=$1 seconds=$2 dict=() corpus=build-fuzz/tests/fuzz/corpus-$1 log=build-fuzz/$1.log
  [ -f "tests/fuzz/${t%_fuzz}.dict" ] && dict=(-dict="tests/fuzz/${t%_fuzz}.dict")
  mkdir -p "$corpus" "build-fuzz/findings-$t"
  if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
      "build-fuzz/tests/fuzz/$t" -max_total_time="$seconds" -rss_limit_mb=2048 -timeout=10 \
      -print_final_stats=1 -artifact_prefix="build-fuzz/findings-$t/" "${dict[@]}" \
      "$corpus" "tests/fuzz/corpus/$t" >"$log" 2>&1; then
    tail -60 "$log"
    echo "$t: FINDING (reproducer in build-fuzz/findings-$t/, log $log)"
    return 1
  fi
  local execs
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  echo "$t: ${execs:-?} executions in ${seconds} s, corpus $(find "$corpus" -type f | wc -l) inputs, no findings"
}
export -f run_one

printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c 'run_one "$1" "$2"' _ {} "$seconds"
