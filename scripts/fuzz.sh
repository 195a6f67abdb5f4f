#!/usr/bin/env bash
# Builds the libFuzzer targets with clang in build-fuzz/ and fuzzes each for
# a bounded time (default 20 s): ./scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}

missing=()
command -v clang++ >/dev/null || missing+=(clang)
dpkg -s libclang-rt-14-dev >/dev/null 2>&1 || missing+=(libclang-rt-14-dev)
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

[ -f build-fuzz/build.ninja ] || CXX=clang++ meson setup build-fuzz -Dfuzz=true >/dev/null
# target, then its extra libFuzzer flags.
run() {
  local target=$1
  shift
  ninja -C build-fuzz "tests/fuzz/$target" >/dev/null
  mkdir -p "build-fuzz/tests/fuzz/corpus-$target"
  "build-fuzz/tests/fuzz/$target" -max_total_time="$seconds" -rss_limit_mb=2048 "$@" \
    "build-fuzz/tests/fuzz/corpus-$target" "tests/fuzz/corpus/$target" \
    2>"build-fuzz/$target.log" || { tail -40 "build-fuzz/$target.log"; echo "$target: FAILED"; exit 1; }
  grep -E "^Done|stat::number_of_executed_units" "build-fuzz/$target.log" | tail -1 || true
  echo "$target: no findings in ${seconds} s"
}
run jwt_fuzz -dict=tests/fuzz/jwt.dict
run cluster_fuzz
