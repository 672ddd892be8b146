#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (--disable-gil) once per machine and print its path.
#
#   bash scripts/build-free-threaded-python.sh      # -> ~/.cache/ftmigrate/python-3.13t/bin/python3.13t
#
# Source: Debian's source package `python3.13` (suite trixie), fetched with apt-get from the
# Debian archive this machine's apt configuration already names. No root needed for the
# download, no system change: apt runs on private lists in a temporary folder.
# Elsewhere (macOS, other distributions), any of these gives ftmigrate an interpreter instead:
#   uv python install 3.13t | pyenv install 3.13t | the python.org installer's free-threaded option
#   | `./configure --disable-gil && make && make altinstall` on a CPython 3.13+ source tree,
# then point FT_PYTHON at it.
#
# Cache: $FTMIGRATE_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/ftmigrate). A build takes
# 4-6 minutes on 2 cores; later calls print the cached path at once. Log: <cache>/python-3.13t.log
set -euo pipefail
cache="${FTMIGRATE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ftmigrate}"
prefix="$cache/python-3.13t"
exe="$prefix/bin/python3.13t"
log="$cache/python-3.13t.log"

works() { [ -x "$exe" ] && "$exe" -c 'import sys, venv, ensurepip; sys.exit(sys._is_gil_enabled())' 2>/dev/null; }
if works; then echo "$exe"; exit 0; fi

mkdir -p "$cache"
# One build at a time per cache folder: a second caller waits for the first one's result.
exec 9>"$cache/.python-3.13t.lock"
flock 9
if works; then echo "$exe"; exit 0; fi

command -v apt-get >/dev/null || { echo "build-free-threaded-python: apt-get not found; see the header of $0 for other ways" >&2; exit 1; }
command -v cc >/dev/null || { echo "build-free-threaded-python: no C compiler (cc) found" >&2; exit 1; }

work="$(mktemp -d)"; trap 'rm -rf "$work"' EXIT
: > "$log"
mirror="$(sed -n 's/^URIs:[[:space:]]*\(\S*\/debian\)\/\?[[:space:]]*$/\1/p' /etc/apt/sources.list.d/*.sources 2>/dev/null | head -n 1)"
[ -n "$mirror" ] || mirror="$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)"
[ -n "$mirror" ] || { echo "build-free-threaded-python: no Debian archive in this machine's apt configuration" >&2; exit 1; }

mkdir -p "$work/lists/partial"
echo "deb-src $mirror trixie main" > "$work/sources.list"
apt_private=(-o "Dir::Etc::SourceList=$work/sources.list" -o Dir::Etc::SourceParts=/dev/null
             -o "Dir::State::Lists=$work/lists" -o APT::Sandbox::User="$(id -un)")
echo "build-free-threaded-python: downloading CPython 3.13 source (Debian source package python3.13)" >&2
apt-get "${apt_private[@]}" update >>"$log" 2>&1
(cd "$work" && apt-get "${apt_private[@]}" source --download-only python3.13 >>"$log" 2>&1)
tar -xf "$(ls "$work"/python3.13_*.orig.tar.* | head -n 1)" -C "$work"
src="$(ls -d "$work"/Python-3.13.* | head -n 1)"
echo "build-free-threaded-python: building $(basename "$src") with --disable-gil (log: $log)" >&2
rm -rf "$prefix"
(
  cd "$src"
  ./configure --disable-gil --prefix="$prefix" --with-ensurepip=install
  make -j"$(nproc)"
  make altinstall
) >>"$log" 2>&1 || { echo "build-free-threaded-python: build failed; last lines of $log:" >&2; tail -n 20 "$log" >&2; exit 1; }
works || { echo "build-free-threaded-python: $exe does not run with the GIL disabled" >&2; exit 1; }
echo "$exe"
