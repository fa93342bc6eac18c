#!/usr/bin/env bash
# Builds the JavaScript plugins (examples/js-plugin) into components with
# componentize-js, installing Node.js when it is missing and the npm packages
# exactly as examples/js-plugin/package-lock.json pins them (`npm ci`, which checks
# each package's integrity hash) when they are missing or the lockfile changed.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/plugins}

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing Node.js and npm for the JavaScript plugins" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq nodejs npm >/dev/null
fi

dir=examples/js-plugin
# node_modules is installed from the lockfile whose hash it is stamped with; any
# other lockfile (edited, or from another branch) means a clean `npm ci`. No package
# in it has an install script, and none is run: installing executes no npm code.
lock_hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
stamp="$dir/node_modules/.crossdesk-lock-sha256"
if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
  (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
  echo "$lock_hash" >"$stamp"
fi
mkdir -p "$out"
target="$out/js-plugin.wasm"
if [ -f "$target" ] && [ "$target" -nt "$dir/plugin.js" ] && [ "$target" -nt "$dir/build.mjs" ] \
  && [ "$target" -nt "$dir/package-lock.json" ] \
  && [ "$target" -nt "sdk/wit/crossdesk-plugin@0.1.0/plugin.wit" ]; then
  echo "$(stat -c %s "$target" | awk '{printf "%9d", $1}') bytes  $target (up to date)"
  exit 0
fi
node "$dir/build.mjs" "$target"
