#!/usr/bin/env bash
# Builds the JavaScript plugins into components with componentize-js: the example
# (examples/js-plugin, contract 0.1.0, its own build script) and the hostile
# fixtures of tests/plugins-js (contract 0.2.1, with the JavaScript SDK's build,
# sdk/js). Installs Node.js when it is missing, and each folder's npm packages
# exactly as its package-lock.json pins them (`npm ci`, which checks each package's
# integrity hash) when they are missing or the lockfile changed.
#
# js-plugins.sh [OUT [FOLDER...]]: the fixtures of each FOLDER are built too
# (`make bench` adds the bench's own, sidecar/benches/plugins-js).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-target/plugins}
fixtures=(tests/plugins-js "${@:2}")

if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  echo "installing Node.js and npm for the JavaScript plugins" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq nodejs npm >/dev/null
fi
# componentize-js and the SDK's build need Node.js 20.19+ in 20.x, or 22.12+
# (the SDK's `engines`; Debian 12's own package is 18): say so plainly rather
# than fail inside npm.
node_version=$(node --version)
IFS=. read -r major minor _ <<<"${node_version#v}"
if [ "$major" -lt 20 ] || { [ "$major" -eq 20 ] && [ "$minor" -lt 19 ]; } ||
  [ "$major" -eq 21 ] || { [ "$major" -eq 22 ] && [ "$minor" -lt 12 ]; }; then
  echo "the JavaScript plugins need Node.js 20.19+ (in 20.x) or 22.12+; this machine has $node_version" >&2
  echo "(install a newer Node.js, e.g. from Debian's backports or nodejs.org, then run this again)" >&2
  exit 1
fi

# node_modules is installed from the lockfile whose hash it is stamped with; any
# other lockfile (edited, or from another branch) means a clean `npm ci`.
# Install scripts are not run.
install() {
  local dir=$1 lock_hash stamp
  lock_hash=$(sha256sum "$dir/package-lock.json" | cut -d' ' -f1)
  stamp="$dir/node_modules/.crossdesk-lock-sha256"
  if [ "$(cat "$stamp" 2>/dev/null)" != "$lock_hash" ]; then
    (cd "$dir" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
    echo "$lock_hash" >"$stamp"
  fi
}

# Whether $1 is newer than every other argument.
up_to_date() {
  local target=$1 source
  shift
  [ -f "$target" ] || return 1
  for source in "$@"; do
    [ "$target" -nt "$source" ] || return 1
  done
  echo "$(stat -c %s "$target" | awk '{printf "%9d", $1}') bytes  $target (up to date)"
}

mkdir -p "$out"
example=examples/js-plugin
install "$example"
target="$out/js-plugin.wasm"
up_to_date "$target" "$example/plugin.js" "$example/build.mjs" "$example/package-lock.json" \
  "sdk/wit/crossdesk-plugin@0.1.0/plugin.wit" || node "$example/build.mjs" "$target"

sdk=sdk/js
install "$sdk"
for folder in "${fixtures[@]}"; do
  for fixture in "$folder"/*.js; do
    target="$out/plugin-$(basename "$fixture" .js).wasm"
    # A fixture may import the SDK's modules (js-hostile its errors).
    up_to_date "$target" "$fixture" "$sdk/build.mjs" "$sdk/package-lock.json" "$sdk"/lib/*.js \
      "sdk/wit/crossdesk-plugin@0.2.1/plugin.wit" || node "$sdk/build.mjs" "$fixture" "$target"
  done
done
