#!/usr/bin/env bash
# Installs what `make fuzz` needs, only if it is missing: cargo-fuzz (from
# crates.io, with its locked dependencies) and a nightly toolchain, which
# libFuzzer's instrumentation (-Z sanitizer options) requires.
set -euo pipefail

if ! cargo +nightly --version >/dev/null 2>&1; then
  if command -v rustup >/dev/null 2>&1; then
    echo "installing the nightly toolchain for cargo-fuzz" >&2
    rustup toolchain install nightly --profile minimal
  else
    echo "cargo-fuzz needs a nightly toolchain (cargo +nightly) and rustup is not installed" >&2
    exit 1
  fi
fi
if cargo fuzz --version >/dev/null 2>&1; then
  exit 0
fi
echo "installing cargo-fuzz" >&2
CARGO_BUILD_JOBS="${CARGO_BUILD_JOBS:-1}" cargo install cargo-fuzz --locked
