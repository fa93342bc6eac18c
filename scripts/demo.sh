#!/usr/bin/env bash
# Starts the translation engine (Apertium APy on 127.0.0.1:2737, where the embedded
# default configuration expects it) and the sidecar on its embedded defaults (a
# fresh data folder, a free loopback port), sends every sample event in
# examples/events/, examples/recommend/events/ and examples/schedule/events/ with
# `crossdesk send`, plans a generated week for tenant `planning` (the report in
# target/schedule-plan.txt, the heatmap in target/schedule-heatmap.svg), and stops
# both again.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${CARGO_TARGET_DIR:-target}/debug/crossdesk
data=$(mktemp -d)
log=$(mktemp)
apy_dir=target/apertium-demo
pid=""
cleanup() {
  [ -n "$pid" ] && { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; }
  APERTIUM_RUN_DIR="$apy_dir" bash scripts/apertium.sh stop || true
  rm -rf "$data" "$log"
}
trap cleanup EXIT

APERTIUM_RUN_DIR="$apy_dir" bash scripts/apertium.sh start 2737

# Tenant "shop" sells camera gear: its catalog and help articles.
"$bin" recommend import-catalog --tenant shop --data-dir "$data" examples/recommend/catalog.json
"$bin" recommend import-kb --tenant shop --data-dir "$data" examples/recommend/kb.json
# Tenant "support" answers around the clock: its roster and help articles.
"$bin" schedule roster import --tenant support --data-dir "$data" examples/schedule/roster.json
"$bin" recommend import-kb --tenant support --data-dir "$data" examples/recommend/kb.json

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
echo "== a Spanish customer writes (customer-message.json): the English-speaking agent"
echo "   gets a translation note; the agent's English reply (agent-reply-drafted.json)"
echo "   is translated into Spanish and replaces the draft; the tone plugin then puts"
echo "   it in usted, as a Mexican customer expects (Apertium writes vosotros forms)"
echo "== the same English reply for a German, a Japanese and a US customer of tenant"
echo "   'global' (reply-for-*.json) is adjusted by the tone plugin, its note listing"
echo "   the rules applied"

for event in examples/events/*.json; do
  echo
  echo "== $(basename "$event")"
  "$bin" send --addr "$addr" "$event"
done
echo
echo "== tenant 'shop': two customers ask the same question; each gets suggestions"
echo "   that fit what they bought (examples/recommend/events/)"
for event in examples/recommend/events/*.json; do
  echo
  echo "== $(basename "$event")"
  "$bin" send --addr "$addr" "$event" | python3 -c '
import json, sys
response = json.load(sys.stdin)
for action in response.get("actions", []):
    for item in action.get("recommend", {}).get("items", []):
        print("  %-8s %-16s %s" % (item["kind"], item["id"], item["reason"]))
print("  outcomes:", ", ".join("%s %s" % (o["plugin"], o["status"]) for o in response["outcomes"]))
'
done
echo
echo "== tenant 'support' (examples/schedule/): a Spanish customer on Tuesday morning,"
echo "   a Portuguese one nobody on the roster speaks, a Japanese one at midnight in"
echo "   Tokyo and an American one on Saturday evening"
for event in examples/schedule/events/*.json; do
  echo
  echo "== $(basename "$event")"
  "$bin" send --addr "$addr" "$event" | python3 -c '
import json, sys
response = json.load(sys.stdin)
for action in response.get("actions", []):
    if "route" in action:
        route = action["route"]
        print("  route     %s / %s: %s" % (route.get("group", "-"), route.get("agentId", "-"), route["reason"]))
    if "addTags" in action:
        print("  tags      %s" % ", ".join(action["addTags"]["tags"]))
    if "autoReply" in action:
        print("  auto-reply")
        for line in action["autoReply"].splitlines():
            print("    " + line)
print("  outcomes:", ", ".join("%s %s" % (o["plugin"], o["status"]) for o in response["outcomes"]))
'
done
echo
echo "== tenant 'planning': a generated five-language week (seed 42, four weeks of"
echo "   history), Erlang C staffing at 80% within 60 s, shifts from the roster"
plan_dir="$data/planning"
"$bin" schedule generate --seed 42 --weeks 4 --week 2026-12-07 --out "$plan_dir"
"$bin" schedule roster import --tenant planning --data-dir "$data" "$plan_dir/roster.json"
"$bin" schedule import-history --tenant planning --data-dir "$data" "$plan_dir/history.csv"
mkdir -p target
"$bin" schedule plan --tenant planning --data-dir "$data" --week 2026-12-07 \
  --heatmap target/schedule-heatmap.svg >target/schedule-plan.txt
# The summary by language and day; the gaps and every agent's shifts follow in
# the file.
sed -n '1,/^Gaps/p' target/schedule-plan.txt | sed '$d'
echo "(gaps by language and hour, and every agent's shifts: target/schedule-plan.txt;"
echo " heatmap of required vs scheduled agents: target/schedule-heatmap.svg)"
echo
echo "== sending customer-message.json again: the stored response is replayed"
"$bin" send --addr "$addr" examples/events/customer-message.json | grep -E '"replayed"|"eventId"'
