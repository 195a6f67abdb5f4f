#!/usr/bin/env bash
# Packaging test: builds the Debian packages from a temporary copy of this tree
# (packaging/build-deb.sh; outputs under /tmp), runs lintian, installs them
# with dpkg -i, checks the installed files, units and binary, and purges them
# again. systemd is not PID 1 on the machines here, so the units are checked
# statically (systemd-analyze verify / security --offline) and the binary is
# started by tests/packaging/run-like-systemd.py, which plays systemd's part
# (NOTIFY_SOCKET, WATCHDOG_USEC, LISTEN_FDS, User=).
#
# Needs root (dpkg -i) and installs missing build dependencies and lintian
# with apt-get. One run at a time on a machine (a lock; the next waits). Exits 77 (skipped) when not root, not on Debian, or when a
# daheim-live package is already installed (it is not touched then).
# Ends with "packaging-deb: PASS" or "packaging-deb: FAIL ..." and exits
# non-zero on failure. KEEP=1 keeps the output directory.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
started=$(date +%s)
failures=()

say() { printf 'packaging-deb: %s\n' "$*"; }
ok() { say "ok   $*"; }
bad() { say "FAIL $*"; failures+=("$*"); }
skip() { say "SKIP: $*"; exit 77; }
elapsed() { echo "$(( $(date +%s) - started )) s"; }

finish() {
  if [ ${#failures[@]} -eq 0 ]; then
    say "PASS ($(elapsed))"
    exit 0
  fi
  say "FAIL: ${#failures[@]} check(s) failed ($(elapsed)):"
  for f in "${failures[@]}"; do printf '  - %s\n' "$f"; done
  exit 1
}
fatal() { bad "$*"; finish; }

# dpkg and apt-get, waiting (up to 10 minutes) while another apt or dpkg run
# holds the dpkg lock.
apt_get() { DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 "$@"; }
dpkg_wait() {
  local i log
  log=$(mktemp)
  for i in $(seq 120); do
    if dpkg "$@" >"$log" 2>&1; then cat "$log"; rm -f "$log"; return 0; fi
    grep -qiE 'frontend lock|database is locked|lock-frontend' "$log" || break
    [ "$i" -eq 1 ] && echo "packaging-deb: waiting for the dpkg lock" >&2
    sleep 5
  done
  cat "$log"; rm -f "$log"; return 1
}
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q ' installed$'; }

[ "$(id -u)" -eq 0 ] || skip "needs root for dpkg -i"
if ! command -v dpkg >/dev/null || ! command -v apt-get >/dev/null; then skip "not a Debian system"; fi

# What it does, and how long each part may take (meson's timeout for this test
# is their sum): another tree's run of this test on the machine installs the
# same packages, so this one waits for it (LOCK_WAIT); the package build
# compiles the daemon and plugins (-O2, hardened) in a fresh tree: several
# minutes on 2 busy cores when ccache has not seen them, under one when it
# has (BUILD_TIMEOUT); lintian, install, checks and purge take a minute or two.
LOCK_WAIT=${PACKAGING_LOCK_WAIT:-600}
BUILD_TIMEOUT=${PACKAGING_BUILD_TIMEOUT:-1800}
exec 8>/tmp/daheim-live-packaging-deb.lock
if ! flock -n 8; then
  say "another packaging-deb run holds the packages; waiting for it (at most $LOCK_WAIT s)"
  t=$(date +%s)
  flock -w "$LOCK_WAIT" 8 || fatal "another packaging-deb run held /tmp/daheim-live-packaging-deb.lock for $LOCK_WAIT s"
  say "waited $(( $(date +%s) - t )) s for the other run"
fi
for p in daheim-live daheim-live-plugin-dev; do
  if pkg_installed "$p"; then
    skip "package $p is installed on this machine; not touching it"
  fi
done

installed_by_us=0
user_existed=0
getent passwd daheim-live >/dev/null && user_existed=1
# The postinst applies the package's sysctl.d file; the test puts back what
# this host had (the package's purge leaves running kernel settings alone).
sysctl_keys="net.core.somaxconn net.ipv4.tcp_max_syn_backlog net.ipv4.ip_local_port_range"
[ -e /proc/sys/net/netfilter/nf_conntrack_max ] && sysctl_keys="$sysctl_keys net.netfilter.nf_conntrack_max"
sysctl_before=()
for k in $sysctl_keys; do sysctl_before+=("$k=$(sysctl -n "$k" | tr '\t' ' ')"); done
out=$(mktemp -d /tmp/daheim-live-test-deb.XXXXXX)

# shellcheck disable=SC2317 # called through the EXIT trap
cleanup() {
  if [ "$installed_by_us" -eq 1 ]; then
    apt_get purge -y -qq daheim-live-plugin-dev daheim-live >"$out/purge.log" 2>&1 ||
      { cat "$out/purge.log"; echo "packaging-deb: cleanup: purging the packages failed"; }
  fi
  for kv in "${sysctl_before[@]}"; do sysctl -q -w "$kv" >/dev/null 2>&1 || true; done
  # Debian leaves system users behind on purge; this test created it.
  if [ "$user_existed" -eq 0 ] && ! pkg_installed daheim-live &&
     getent passwd daheim-live >/dev/null; then
    userdel daheim-live 2>/dev/null || true
    if getent group daheim-live >/dev/null; then groupdel daheim-live 2>/dev/null || true; fi
  fi
  if [ "${KEEP:-0}" = 1 ]; then say "kept $out"; else rm -rf "$out"; fi
}
trap cleanup EXIT

# 0. Tools: dpkg-dev (dpkg-checkbuilddeps), lintian. build-deb.sh installs
#    the Build-Depends.
need=()
for p in dpkg-dev lintian python3; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q ' installed$' || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
  say "installing ${need[*]}"
  { apt_get update -qq && apt_get install -y -qq --no-install-recommends "${need[@]}"; } \
    >"$out/apt.log" 2>&1 ||
    { cat "$out/apt.log"; fatal "apt-get install ${need[*]}"; }
fi

# 1. Build.
say "building (packaging/build-deb.sh; log in $out/build.log)"
t=$(date +%s)
timeout --kill-after=30 "$BUILD_TIMEOUT" \
  "$root/packaging/build-deb.sh" --install-deps "$out" >"$out/build.log" 2>&1
build_status=$?
if [ "$build_status" -eq 0 ]; then
  ok "dpkg-buildpackage -b -us -uc ($(( $(date +%s) - t )) s)"
elif [ "$build_status" -eq 124 ]; then
  tail -n 30 "$out/build.log"
  fatal "package build not done after $BUILD_TIMEOUT s (PACKAGING_BUILD_TIMEOUT; the log's end is above)"
else
  tail -n 60 "$out/build.log"
  fatal "package build (see the log above)"
fi
version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -SVersion)
arch=$(dpkg --print-architecture)
deb="$out/daheim-live_${version}_${arch}.deb"
devdeb="$out/daheim-live-plugin-dev_${version}_${arch}.deb"
changes="$out/daheim-live_${version}_${arch}.changes"
for f in "$deb" "$devdeb" "$changes"; do [ -f "$f" ] || fatal "no $f"; done

# 2. lintian: no errors (warnings and infos are printed).
if lintian --fail-on error -I "$changes" >"$out/lintian.log" 2>&1; then
  ok "lintian: no errors"
else
  bad "lintian reported errors"
fi
grep -E '^[EWI]: ' "$out/lintian.log" | sed 's/^/    /'

# 3. Install.
installed_by_us=1
if ! dpkg_wait -i "$deb" "$devdeb" >"$out/install.log" 2>&1; then
  say "dpkg -i left dependencies unresolved; apt-get -f install"
  apt_get -f install -y -qq >>"$out/install.log" 2>&1
fi
for p in daheim-live daheim-live-plugin-dev; do
  if dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    ok "installed $p $version"
  else
    cat "$out/install.log"
    fatal "$p is not installed"
  fi
done

# 4. Installed files.
multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null || gcc -print-multiarch)
unitdir=$(dirname "$(dpkg -L daheim-live | grep '/systemd/system/daheim-live.service$')")
for f in /usr/bin/daheim-live /etc/daheim-live/daheim-live.json \
         "$unitdir/daheim-live.service" "$unitdir/daheim-live.socket" \
         /usr/lib/sysusers.d/daheim-live.conf /usr/share/man/man8/daheim-live.8.gz \
         /usr/lib/sysctl.d/60-daheim-live.conf "/usr/lib/$multiarch/daheim-live/plugins"; do
  if [ -e "$f" ]; then ok "installed $f"; else bad "missing $f"; fi
done
# The host settings for 100k+ connections, in the syntax systemd-sysctl reads.
sysctl_conf=/usr/lib/sysctl.d/60-daheim-live.conf
for kv in "net.core.somaxconn = 65535" "net.ipv4.tcp_max_syn_backlog = 65535" \
          "net.ipv4.ip_local_port_range = 10240 65535" "-net.netfilter.nf_conntrack_max = 2097152"; do
  if grep -qxF -- "$kv" "$sysctl_conf"; then ok "$sysctl_conf: $kv"; else bad "$sysctl_conf lacks '$kv'"; fi
done
if [ -x /lib/systemd/systemd-sysctl ]; then
  if line=$(/lib/systemd/systemd-sysctl --cat-config 2>&1 | grep -F "60-daheim-live.conf"); then
    ok "systemd-sysctl reads it: $line"
  else
    bad "systemd-sysctl --cat-config does not list 60-daheim-live.conf"
  fi
fi
# The daemon's built-in default plugin directory must be the packaged one.
named=$(grep -aoE '/[[:alnum:]_./-]*/daheim-live/plugins' /usr/bin/daheim-live | sort -u | tr '\n' ' ')
if [ -z "$named" ]; then
  say "note /usr/bin/daheim-live names no plugin directory yet"
elif [ "$named" = "/usr/lib/$multiarch/daheim-live/plugins " ]; then
  ok "the daemon's default plugin dir is the packaged /usr/lib/$multiarch/daheim-live/plugins"
else
  bad "/usr/bin/daheim-live names $named, not /usr/lib/$multiarch/daheim-live/plugins"
fi
if dpkg-query -W -f='${Conffiles}\n' daheim-live | grep -q '^ /etc/daheim-live/daheim-live.json '; then
  ok "/etc/daheim-live/daheim-live.json is a conffile"
else
  bad "/etc/daheim-live/daheim-live.json is not a conffile"
fi
if getent passwd daheim-live >/dev/null; then
  ok "system user daheim-live exists (sysusers)"
else
  bad "no user daheim-live after installation"
fi
if dpkg -L daheim-live-plugin-dev | grep -q '\.pc$'; then
  pc=$(dpkg -L daheim-live-plugin-dev | grep '\.pc$' | head -n1)
  plugindir=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config --variable=plugindir "$(basename "$pc" .pc)" 2>/dev/null)
  if [ "$plugindir" = "/usr/lib/$multiarch/daheim-live/plugins" ]; then
    ok "$(basename "$pc"): plugindir=$plugindir"
  else
    bad "$(basename "$pc"): plugindir is '$plugindir', expected /usr/lib/$multiarch/daheim-live/plugins"
  fi
else
  say "note daheim-live-plugin-dev has no .pc file yet (the SDK installs none)"
fi

# 5. Units, statically.
# --man=no: Documentation=man:daheim-live(8) is checked with man -w below
# (verify's own `man` call would leave a page in /var/cache/man).
if verify=$(systemd-analyze verify --man=no "$unitdir/daheim-live.service" \
              "$unitdir/daheim-live.socket" 2>&1) && [ -z "$verify" ]; then
  ok "systemd-analyze verify daheim-live.service daheim-live.socket: clean"
else
  printf '%s\n' "$verify" | sed 's/^/    /'
  bad "systemd-analyze verify reported problems"
fi
if command -v man >/dev/null; then
  if man -w 8 daheim-live >/dev/null 2>&1; then ok "man daheim-live(8) resolves (Documentation=)"
  else bad "man -w 8 daheim-live finds no page"; fi
fi
security=$(systemd-analyze security --offline=true --threshold=20 \
             "$unitdir/daheim-live.service" 2>&1)
sec_rc=$?
score=$(printf '%s\n' "$security" | sed -n 's/.*Overall exposure level for daheim-live.service: //p')
if [ "$sec_rc" -eq 0 ]; then
  ok "systemd-analyze security: $score (threshold 2.0)"
else
  printf '%s\n' "$security" | grep -v '✓' | sed 's/^/    /'
  bad "systemd-analyze security: $score, above 2.0"
fi
unit_get() { sed -n "s/^$1=//p" "$unitdir/daheim-live.service" | tail -n1; }
for kv in "Type=notify" "NotifyAccess=main" "WatchdogSec=30" "LimitNOFILE=1048576" \
          "RestartPreventExitStatus=64 78" \
          "ExecStart=/usr/bin/daheim-live --config /etc/daheim-live/daheim-live.json"; do
  if [ "$(unit_get "${kv%%=*}")" = "${kv#*=}" ]; then ok "unit has $kv"; else bad "unit lacks $kv"; fi
done

# 6. The installed binary with the packaged config.
got=$(/usr/bin/daheim-live --version 2>&1)
if [ "$got" = "daheim-live ${version%%-*}" ]; then ok "--version: $got"; else bad "--version printed '$got'"; fi
if got=$(setpriv --reuid=daheim-live --regid=daheim-live --clear-groups \
           /usr/bin/daheim-live --check-config /etc/daheim-live/daheim-live.json 2>&1); then
  ok "--check-config /etc/daheim-live/daheim-live.json as daheim-live: $got"
else
  bad "--check-config /etc/daheim-live/daheim-live.json: $got"
fi
# The test fixtures (core/testing, config key testHandler) are not shipped:
# not the test binary, not their code in the daemon, and the key is refused.
if dpkg -L daheim-live daheim-live-plugin-dev | grep -q 'daheim-live-test'; then
  bad "the packages ship daheim-live-test"
else
  ok "no daheim-live-test in the packages"
fi
if grep -aqE 'broadcast-with-ack|disconnect-reason|message-with-ack' /usr/bin/daheim-live; then
  bad "/usr/bin/daheim-live holds the test fixtures' command names"
else
  ok "/usr/bin/daheim-live holds no test fixture (none of their command names)"
fi
fixture_conf=$out/fixture.json
printf '{"testHandler": "socketio-e2e"}\n' >"$fixture_conf"
got=$(/usr/bin/daheim-live --check-config "$fixture_conf" 2>&1); status=$?
if [ "$status" -eq 78 ] && [ "$got" = "daheim-live: config error: $fixture_conf: key testHandler: test fixtures are not part of this binary (the build tree's daheim-live-test serves them, for the test suites only)" ]; then
  ok "testHandler refused by the installed binary (exit 78)"
else
  bad "testHandler: exit $status, '$got'"
fi
say "starting /usr/bin/daheim-live as daheim-live with the packaged config on 127.0.0.1:0"
if python3 "$here/run-like-systemd.py" --bin /usr/bin/daheim-live --user daheim-live \
     --watchdog-usec 2000000 -- --config /etc/daheim-live/daheim-live.json --listen 127.0.0.1:0; then
  ok "start, READY=1, watchdog, handshake, SIGHUP, SIGTERM -> exit 0"
else
  bad "running the installed binary like daheim-live.service (see above)"
fi
say "starting it again with a listening socket passed as by daheim-live.socket (LISTEN_FDS)"
if python3 "$here/run-like-systemd.py" --bin /usr/bin/daheim-live --user daheim-live \
     --socket-activation -- --config /etc/daheim-live/daheim-live.json; then
  ok "socket activation: serves on the socket from LISTEN_FDS"
else
  bad "socket activation (daheim-live.socket): see above"
fi

# 7. Purge, and check that nothing is left.
if dpkg_wait --purge daheim-live-plugin-dev daheim-live >"$out/purge.log" 2>&1; then
  installed_by_us=0
  ok "dpkg --purge daheim-live-plugin-dev daheim-live"
else
  cat "$out/purge.log"
  bad "dpkg --purge"
fi
for f in /usr/bin/daheim-live /etc/daheim-live "$unitdir/daheim-live.service" \
         /usr/lib/sysusers.d/daheim-live.conf /usr/lib/sysctl.d/60-daheim-live.conf \
         "/usr/lib/$multiarch/daheim-live"; do
  [ -e "$f" ] && bad "left behind after purge: $f"
done
finish
