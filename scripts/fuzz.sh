#!/usr/bin/env bash
# `make fuzz`: builds every fuzz target of fuzz/ once, then runs each for
# FUZZ_SECONDS (default 60), one after the other, from its committed seeds
# (fuzz/seeds/<target>/) and what earlier runs kept (fuzz/corpus/<target>/, not
# committed), and prints per target the executions, executions per second and the
# coverage libFuzzer reached at the end (cov: edges, ft: features). A crash stops
# its target — libFuzzer writes the input to fuzz/artifacts/<target>/, the log is
# fuzz/logs/<target>.log — and the script exits 1 once the others ran.
# FUZZ_TARGETS="tmx roster" runs only those.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${FUZZ_SECONDS:-60}"
export CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}"
# Crossdesk's own crates forbid unsafe code: a sanitizer would add cost and find
# what a panic already reports. Overflow checks and debug assertions stay on.
flags=(--fuzz-dir fuzz --sanitizer none --debug-assertions)

targets="${FUZZ_TARGETS:-$(cargo +nightly fuzz list --fuzz-dir fuzz)}"
cargo +nightly fuzz build "${flags[@]}"

mkdir -p fuzz/logs
printf '%-12s %12s %9s %7s %7s  %s\n' target executions exec/s cov ft result
status=0
for target in $targets; do
  mkdir -p "fuzz/corpus/$target" "fuzz/artifacts/$target"
  log="fuzz/logs/$target.log"
  if cargo +nightly fuzz run "${flags[@]}" "$target" "fuzz/corpus/$target" "fuzz/seeds/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    >"$log" 2>&1; then
    result=ok
  else
    result="CRASH: $log, input in fuzz/artifacts/$target/"
    status=1
  fi
  executions=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  ft=$(grep -o 'ft: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
  printf '%-12s %12s %9s %7s %7s  %s\n' "$target" "${executions:--}" "${rate:--}" \
    "${cov:--}" "${ft:--}" "$result"
done
exit "$status"
