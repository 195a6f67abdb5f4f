#!/usr/bin/env bash
# Soak test (not in CI): churn against one daheim-live built with ASan+UBSan (build-asan/, the
# build scripts/sanitize.sh uses), driven by tests/soak/driver.mjs, which says what it does and
# what passes. Reports RSS, the live heap, open fds, sessions and pending plugin calls at the
# baseline, every SOAK_SAMPLE_SECONDS (60) and at an idle point after each round; exits 1 on failure.
#   ./scripts/soak.sh [MINUTES]          default 15; e.g. 60 for an hour, 1440 for 24 hours
# Environment: SOAK_CLIENTS (16 concurrent clients), SOAK_WARMUP_SECONDS (300),
# SOAK_ROUND_MINUTES (10), SOAK_HEAP_PROFILE (1: ASan heap profiles at the idle points, for
# tests/soak/heap_diff.py), ASAN_OPTIONS (replaces the settings below). It runs under
# `nice -n 10`; on a shared machine keep it there. For 24 hours run it detached:
#   nohup ./scripts/soak.sh 1440 > soak-24h.log 2>&1 &
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-15}

./scripts/setup.sh >/dev/null   # Debian packages and node_modules
[ -f build-asan/build.ninja ] || meson setup build-asan -Db_sanitize=address,undefined \
  -Db_lundef=false -Dcpp_args=-fno-sanitize-recover=undefined \
  -Dc_args=-fno-sanitize-recover=undefined >/dev/null
ninja -C build-asan core/app/daheim-live plugins/test/alpha.so >/dev/null

# No quarantine (its footprint grows for hours, so RSS would measure it rather than the server:
# README, "Soak") and a prompt return of freed pages; leaks are checked at exit. With a quarantine
# (ASan's defaults in ASAN_OPTIONS) the driver judges the live heap only.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:halt_on_error=1:quarantine_size_mb=0:thread_local_quarantine_size_kb=0:allocator_release_to_os_interval_ms=1000}
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export DAHEIM_LIVE_BIN=$PWD/build-asan/core/app/daheim-live
export DAHEIM_PLUGINS_DIR=$PWD/build-asan/plugins
export SOAK_MINUTES=$minutes
exec nice -n 10 node tests/soak/driver.mjs
