#!/usr/bin/env bash
# Installs what building plugins needs, only if it is missing: rustup's
# wasm32-unknown-unknown target if rustup can add it, otherwise Debian's Rust with
# the standard library's source (rustc-web, cargo-web, rust-web-src) and lld.
set -euo pipefail

if command -v rustup >/dev/null 2>&1 \
  && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  exit 0
fi
if [ -x /usr/bin/cargo ] && [ -x /usr/bin/rustc ] \
  && [ -d /usr/lib/rustlib/src/rust/library/std ] && command -v wasm-ld >/dev/null 2>&1; then
  exit 0
fi
echo "installing Debian's Rust with std source and lld for wasm32 plugin builds" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq rustc-web cargo-web rust-web-src lld >/dev/null
