#!/usr/bin/env bash
# Headless Chromium and its WebDriver for the admin web page's browser test.
#
#   scripts/chromium.sh install   # Debian's chromium and chromium-driver, only when missing (root)
#
# The test starts `chromedriver` on a loopback port of its own and drives a
# headless Chromium through the W3C WebDriver protocol; nothing stays running.
set -euo pipefail

case "${1:-}" in
  install)
    if command -v chromium > /dev/null && command -v chromedriver > /dev/null; then
      exit 0
    fi
    if [ "$(id -u)" -ne 0 ]; then
      echo "chromium and chromedriver are missing; installing them needs root" >&2
      exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get install -y -q --no-install-recommends chromium chromium-driver > /dev/null ||
      { apt-get update -q > /dev/null && apt-get install -y -q --no-install-recommends chromium chromium-driver > /dev/null; }
    ;;
  *)
    echo "usage: $0 install" >&2
    exit 2
    ;;
esac
