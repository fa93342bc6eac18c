#!/usr/bin/env bash
# HAProxy, the gRPC load balancer of the scale test (`make scale`): installs
# Debian's package when `haproxy` is missing. The test writes its configuration
# and runs it on loopback itself (no service is started).
set -euo pipefail

if command -v haproxy >/dev/null 2>&1 || [ -x /usr/sbin/haproxy ]; then
  exit 0
fi
echo "installing HAProxy (Debian package)" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq haproxy >/dev/null
