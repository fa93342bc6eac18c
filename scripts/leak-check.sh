#!/usr/bin/env bash
# After the test suite: fails when a secret the suite configured appears in anything
# its servers and commands wrote (target/test-logs: the in-process servers' trace
# logs with every event's whole response and every refusal, the `crossdesk`
# processes' output). Every such secret carries the mark S3CR3T
# (tests/support/logs.rs).
set -euo pipefail
cd "$(dirname "$0")/.."
logs=${1:-target/test-logs}
mark=S3CR3T

if ! compgen -G "$logs/suite-*.log" >/dev/null; then
  echo "leak check: no suite log in $logs (run the tests first)" >&2
  exit 1
fi
# The check is only worth something if the logs hold what the servers answered.
if ! grep -rqs "answered" "$logs"; then
  echo "leak check: the logs in $logs hold no answered event: nothing was recorded" >&2
  exit 1
fi
if grep -rn --binary-files=text "$mark" "$logs" | head -20 | grep .; then
  echo "leak check: a secret of the suite (marked $mark) appears above" >&2
  exit 1
fi
lines=$(cat "$logs"/*.log | wc -l)
echo "leak check: no secret in $lines lines of logs and outputs ($(ls "$logs" | wc -l) files)"
