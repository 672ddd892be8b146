#!/usr/bin/env bash
# `ftmigrate verify` on two pinned public sdists from PyPI (provenance: pip download
# --no-binary :all:, cached under ~/.cache/ftmigrate/sdists), one pure Python and one with a
# C extension. Writes OUT/<project>.json and OUT/<project>.md; prints the text reports.
#
#   scripts/verify-public-projects.sh [OUT]        (default OUT: ~/.cache/ftmigrate/verify-public)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
cache="${FTMIGRATE_CACHE:-$HOME/.cache/ftmigrate}"
out="${1:-$cache/verify-public}"
mkdir -p "$cache/sdists" "$out"
for pin in cachetools==5.5.0 simplejson==3.19.3; do
  name="${pin%%==*}-${pin##*==}"
  [ -f "$cache/sdists/$name.tar.gz" ] || python3 -m pip download --quiet --no-deps --no-binary :all: "$pin" -d "$cache/sdists"
  rm -rf "$out/$name" && tar xzf "$cache/sdists/$name.tar.gz" -C "$out"
  code=0
  PYTHONPATH="$repo" python3 -m ftmigrate verify "$out/$name" --format json > "$out/$name.json" || code=$?
  echo "== $pin: exit $code"
  PYTHONPATH="$repo" python3 -c "import json, sys; from ftmigrate.threadtests.report import render_text, render_markdown; d = json.load(open(sys.argv[1])); open(sys.argv[2], 'w').write(render_markdown(d)); print(render_text(d))" "$out/$name.json" "$out/$name.md"
done
