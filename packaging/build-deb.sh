#!/usr/bin/env bash
# Builds the Debian packages daheim-live and daheim-live-plugin-dev from this
# tree without touching it: copies the sources (tracked and untracked files
# that git does not ignore; no build/ or node_modules/) to a build
# directory, puts packaging/debian at debian/ there and runs
# `dpkg-buildpackage -b -us -uc` with the tests off (nocheck).
#
# usage: packaging/build-deb.sh [--install-deps] [--keep] [OUTDIR]
#   OUTDIR          where the .deb, .changes and .buildinfo files go
#                   (default /tmp/daheim-live-deb)
#   --install-deps  apt-get install the missing Build-Depends first (root)
#   --keep          keep the build tree (its path is printed) until the next build
# Environment: DEB_BUILD_OPTIONS is extended with nocheck and parallel=N
# (N = nproc unless it already names one). DEB_BUILD_DIR: the build tree
# (default /tmp/daheim-live-debbuild, one build at a time through
# DEB_BUILD_DIR.lock; DEB_BUILD_LOCK_WAIT seconds at most, default 900).
set -euo pipefail

install_deps=0
keep=0
outdir=/tmp/daheim-live-deb
while [ $# -gt 0 ]; do
  case "$1" in
    --install-deps) install_deps=1 ;;
    --keep) keep=1 ;;
    -h|--help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    -*) echo "build-deb: unknown option $1" >&2; exit 64 ;;
    *) outdir=$1 ;;
  esac
  shift
done

root=$(cd "$(dirname "$0")/.." && pwd)
log() { printf 'build-deb: %s\n' "$*" >&2; }

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"
  elif command -v sudo >/dev/null 2>&1; then sudo "$@"
  else log "need root to run: $*"; exit 1
  fi
}

if ! command -v dpkg-buildpackage >/dev/null 2>&1; then
  if [ "$install_deps" -eq 1 ]; then
    log "installing dpkg-dev"
    as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends dpkg-dev
  else
    log "dpkg-buildpackage not found: apt-get install dpkg-dev (or use --install-deps)"
    exit 1
  fi
fi

# The package version (debian/changelog) must be the project's version.
meson_version=$(sed -n "s/^[[:space:]]*version:[[:space:]]*'\([^']*\)'.*/\1/p" "$root/meson.build" | head -n1)
deb_version=$(dpkg-parsechangelog -l "$root/packaging/debian/changelog" -SVersion)
if [ "${deb_version%%-*}" != "$meson_version" ]; then
  log "packaging/debian/changelog is at $deb_version but meson.build at $meson_version:"
  log "add a changelog entry (dch -c packaging/debian/changelog -v $meson_version)"
  exit 1
fi

# The package is built in one fixed directory, one build at a time (others
# wait for the lock): dpkg-buildflags names the directory in the compiler's
# flags (-ffile-prefix-map), so only the same path lets ccache reuse the last
# package build's objects; and debhelper points HOME elsewhere, so ccache is
# told where its cache is. A cold build takes minutes on 2 busy cores, a warm
# one well under one.
work=${DEB_BUILD_DIR:-/tmp/daheim-live-debbuild}
lock_wait=${DEB_BUILD_LOCK_WAIT:-900}
exec 9>"$work.lock"
if ! flock -n 9; then
  log "waiting (at most $lock_wait s) for another package build in $work"
  flock -w "$lock_wait" 9 || { log "another package build held $work.lock for $lock_wait s"; exit 1; }
fi
if command -v ccache >/dev/null 2>&1 && [ -z "${CCACHE_DIR:-}" ]; then
  CCACHE_DIR=$(ccache -k cache_dir)
  export CCACHE_DIR
fi
rm -rf "$work"
mkdir -p "$work"
cleanup() {
  if [ "$keep" -eq 1 ]; then log "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
src=$work/daheim-live-$meson_version
mkdir -p "$src"

# 1. Copy the sources.
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git -C "$root" ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do
      # Skip files deleted in the work tree but still in the index.
      if [ -e "$root/$f" ] || [ -L "$root/$f" ]; then printf '%s\0' "$f"; fi
    done |
    tar -C "$root" --null -T - -cf - | tar -C "$src" -xf -
else
  tar -C "$root" --exclude=./.git --exclude='./build*' --exclude=./node_modules \
    --exclude=./debian -cf - . | tar -C "$src" -xf -
fi
rm -rf "$src/debian"
cp -a "$root/packaging/debian" "$src/debian"

# 2. Build dependencies.
cd "$src"
if ! unmet=$(dpkg-checkbuilddeps 2>&1); then
  # "dpkg-checkbuilddeps: error: Unmet build dependencies: a (>= 1) b"
  pkgs=$(printf '%s\n' "$unmet" | sed -n 's/.*Unmet build dependencies: //p' |
         sed -e 's/([^)]*)//g' -e 's/\[[^]]*\]//g' -e 's/|[^ ]*//g')
  if [ "$install_deps" -eq 1 ] && [ -n "$pkgs" ]; then
    log "installing build dependencies: $pkgs"
    as_root apt-get -o DPkg::Lock::Timeout=600 update -qq
    # shellcheck disable=SC2086 # one word per package
    as_root env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $pkgs
  else
    printf '%s\n' "$unmet" >&2
    log "run with --install-deps (as root) to install them"
    exit 1
  fi
fi

# 3. Build.
opts=${DEB_BUILD_OPTIONS:-}
case " $opts " in *" nocheck "*) ;; *) opts="$opts nocheck" ;; esac
case " $opts " in *" parallel="*) ;; *) opts="$opts parallel=$(nproc)" ;; esac
log "dpkg-buildpackage -b -us -uc in $src (DEB_BUILD_OPTIONS=${opts# })"
DEB_BUILD_OPTIONS=${opts# } dpkg-buildpackage -b -us -uc

# 4. Collect.
mkdir -p "$outdir"
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
changes="$work/daheim-live_${deb_version}_${arch}.changes"
files=("$changes" "$work"/*.buildinfo "$work"/*.deb)
[ -f "$changes" ] || { log "no $changes"; exit 1; }
cp "${files[@]}" "$outdir/"
log "wrote to $outdir:"
for f in "${files[@]}"; do printf '  %s\n' "$outdir/$(basename "$f")" >&2; done
