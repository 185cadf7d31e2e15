#!/usr/bin/env bash
# Builds the investigator's front-end into ../assets (app.js, app.css), which is committed
# and embedded in the binary. The packages are pinned in package-lock.json; the output
# depends only on them and src/, so a rebuild gives the same bytes.
#
#   ./build.sh          install (npm ci) if needed, then build into ../assets
#   ./build.sh --check  build into a temporary folder and fail if ../assets differs
set -euo pipefail
cd "$(dirname "$0")"
if [ ! -x node_modules/.bin/esbuild ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi
out=../assets
if [ "${1:-}" = "--check" ]; then
  out=$(mktemp -d)
  trap 'rm -rf "$out"' EXIT
fi
esbuild=node_modules/.bin/esbuild
"$esbuild" src/main.js --bundle --minify --format=iife --target=es2020 --charset=utf8 \
  --legal-comments=external --log-level=warning --outfile="$out/app.js"
"$esbuild" src/app.css --bundle --minify --charset=utf8 --log-level=warning --outfile="$out/app.css"
if [ "${1:-}" = "--check" ]; then
  for f in app.js app.css app.js.LEGAL.txt; do
    if ! cmp -s "$out/$f" "../assets/$f"; then
      echo "internal/web/assets/$f does not match internal/web/frontend: run internal/web/frontend/build.sh and commit the result" >&2
      exit 1
    fi
  done
  echo "internal/web/assets matches its sources"
fi
