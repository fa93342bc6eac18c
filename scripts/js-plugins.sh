#!/usr/bin/env bash
# Builds the JavaScript plugins (examples/js-plugin) into components with
# componentize-js, installing Node.js and the npm packages only if they are missing.
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
if [ ! -d "$dir/node_modules/@bytecodealliance/componentize-js" ]; then
  (cd "$dir" && npm install --no-audit --no-fund --no-package-lock --loglevel=error)
fi
mkdir -p "$out"
target="$out/js-plugin.wasm"
if [ -f "$target" ] && [ "$target" -nt "$dir/plugin.js" ] && [ "$target" -nt "$dir/build.mjs" ] \
  && [ "$target" -nt "proto/wit/crossdesk-plugin@0.1.0/plugin.wit" ]; then
  echo "$(stat -c %s "$target" | awk '{printf "%9d", $1}') bytes  $target (up to date)"
  exit 0
fi
node "$dir/build.mjs" "$target"
