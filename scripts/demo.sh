#!/usr/bin/env bash
# Starts the sidecar on its embedded defaults (a fresh data folder, a free loopback
# port), sends every sample event in examples/events/ with `crossdesk send`, and
# stops the sidecar again.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=target/debug/crossdesk
data=$(mktemp -d)
log=$(mktemp)
trap 'kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; rm -rf "$data" "$log"' EXIT

"$bin" serve --listen 127.0.0.1:0 --data-dir "$data" >"$log" 2>&1 &
pid=$!
addr=""
for _ in $(seq 1 300); do
  addr=$(sed -n 's/^crossdesk listening on //p' "$log")
  [ -n "$addr" ] && break
  if ! kill -0 "$pid" 2>/dev/null; then cat "$log"; echo "crossdesk exited early" >&2; exit 1; fi
  sleep 0.1
done
[ -n "$addr" ] || { cat "$log"; echo "crossdesk did not start" >&2; exit 1; }
echo "== crossdesk is listening on $addr (embedded default config: tenant 'demo')"

for event in examples/events/*.json; do
  echo
  echo "== $(basename "$event")"
  "$bin" send --addr "$addr" "$event"
done
echo
echo "== sending customer-message.json again: the stored response is replayed"
"$bin" send --addr "$addr" examples/events/customer-message.json | grep -E '"replayed"|"eventId"'
