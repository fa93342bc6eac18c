#!/usr/bin/env bash
# A local Apertium APy server for the translation plugin's development and tests.
#
#   scripts/apertium.sh install      # Debian packages, only those missing (root)
#   scripts/apertium.sh start PORT   # APy on 127.0.0.1:PORT, in the background
#   scripts/apertium.sh stop         # stops the server `start` started
#   scripts/apertium.sh clean        # removes what start left in the run directory
#
# The pid file and the log live in $APERTIUM_RUN_DIR (default target/apertium).
# With APERTIUM_OWNER_PID set, start also leaves a watcher that runs stop once that
# process has exited: a test run shares one server and cannot stop it itself. With
# APERTIUM_REMOVE_RUN_DIR=1 too, the watcher then runs clean: removes what start
# put in the run directory, and the directory once empty (a temporary one its
# owner could not remove, the server being alive until then).
set -euo pipefail

# Every pair Debian ships that joins the others through a pivot (English, Spanish,
# Catalan, French, Portuguese, Swedish...). Left out: pairs that meet none of them
# (afr-nld, ind-zlm, rus-ukr, bel-rus, pol-szl, urd-hin), and the transitional
# packages that only pull in one of these under an older name.
PACKAGES=(apertium-apy
  apertium-eng-spa apertium-fr-es apertium-es-pt apertium-en-ca
  apertium-fra-cat apertium-spa-cat apertium-spa-ita apertium-cat-ita apertium-por-cat
  apertium-es-gl apertium-en-gl apertium-pt-gl apertium-es-ro
  apertium-eu-en apertium-eu-es apertium-eo-ca apertium-eo-en apertium-eo-es apertium-eo-fr
  apertium-oc-ca apertium-oc-es apertium-oci-fra apertium-spa-ast apertium-spa-arg
  apertium-arg-cat apertium-cat-srd apertium-srd-ita apertium-br-fr apertium-fra-frp
  apertium-hbs-eng apertium-mkd-eng apertium-mkd-bul apertium-hbs-mkd apertium-hbs-slv
  apertium-isl-eng apertium-isl-swe apertium-swe-dan apertium-dan-nor apertium-swe-nor
  apertium-nno-nob)
MODES_DIR=/usr/share/apertium/modes
RUN_DIR="${APERTIUM_RUN_DIR:-target/apertium}"
PID_FILE="$RUN_DIR/apy.pid"
LOG_FILE="$RUN_DIR/apy.log"
# Loading the pair list is quick, but the first start after an install compiles
# Python bytecode: give it time, yet never wait forever.
START_WAIT_SECS="${APERTIUM_START_WAIT_SECS:-60}"
# APy's own main(), with tornado's bind pinned to loopback (see start).
LOOPBACK_MAIN='
import sys
import tornado.tcpserver
bind = tornado.tcpserver.TCPServer.bind
tornado.tcpserver.TCPServer.bind = lambda self, port, address=None, *a, **k: bind(self, port, "127.0.0.1", *a, **k)
from apertium_apy.apy import main
sys.argv[0] = "apertium-apy"
sys.exit(main())
'

# APy offers /calcCoverage (the share of a text's words a language's analyser
# knows: the translation plugin's evidence for short messages) only for analyser
# modes, which Debian's packages do not install. Each pair ships its source
# language's analyser; one per language becomes an `<iso3>-morph.mode` of our own.
analyser_modes() {
  local dir="$RUN_DIR/nonpairs/modes" file base src iso3
  rm -rf "$RUN_DIR/nonpairs"
  mkdir -p "$dir"
  for file in /usr/share/apertium/apertium-*/*.automorf.bin; do
    [ -e "$file" ] || continue
    base=$(basename "$file" .automorf.bin)
    src=${base%%-*}
    case "$base" in eco-* | *@*) continue ;; esac
    case "$src" in
      en) iso3=eng ;; es) iso3=spa ;; pt) iso3=por ;; fr) iso3=fra ;; it) iso3=ita ;;
      ca) iso3=cat ;; gl) iso3=glg ;; ro) iso3=ron ;; eu) iso3=eus ;; oc) iso3=oci ;;
      br) iso3=bre ;; eo) iso3=epo ;; *) iso3=$src ;;
    esac
    [ -e "$dir/$iso3-morph.mode" ] || echo "lt-proc -w '$file'" >"$dir/$iso3-morph.mode"
  done
}

usage() {
  echo "usage: $0 install | start PORT | stop | clean" >&2
  exit 2
}

install() {
  local missing=()
  for pkg in "${PACKAGES[@]}"; do
    # dpkg-query's status is the reliable "is it installed" test; a removed package
    # can still have an entry.
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed'; then
      missing+=("$pkg")
    fi
  done
  # start waits for the server with curl.
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  if [ "${#missing[@]}" -eq 0 ]; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "apertium.sh install: run as root to install ${missing[*]}" >&2
    exit 1
  fi
  echo "installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

running_pid() {
  # Prints the pid of the server this script started, if it is still alive.
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

start() {
  local port="${1:-}"
  [[ "$port" =~ ^[0-9]+$ ]] || usage
  command -v apertium-apy >/dev/null 2>&1 || {
    echo "apertium-apy is not installed: run '$0 install' first" >&2
    exit 1
  }
  mkdir -p "$RUN_DIR"
  if pid="$(running_pid)"; then
    echo "apertium-apy already running (pid $pid); '$0 stop' first" >&2
    exit 1
  fi
  local url="http://127.0.0.1:$port/listPairs"
  # Another server answering on the port would pass the readiness check below.
  if curl -fsS --max-time 2 "$url" >/dev/null 2>&1; then
    echo "something already answers $url; choose another port" >&2
    exit 1
  fi
  # apertium-apy 0.11 binds every interface (HTTPServer.bind(port), no address
  # option). A development server has no business on the network, so run its own
  # main() with tornado's bind pinned to loopback (its log still says "Serving on
  # all interfaces": the message is fixed text). /usr/bin/python3 because the
  # Debian package's modules live in the system interpreter. -j1: one process is
  # plenty for tests and loads each pair once.
  # The server records its own pid: $! would name setsid's parent if setsid forked.
  rm -f "$PID_FILE"
  analyser_modes
  setsid sh -c 'echo $$ >"$1"; shift; exec "$@"' sh "$PID_FILE" \
    /usr/bin/python3 -c "$LOOPBACK_MAIN" -p "$port" -j1 -s "$RUN_DIR/nonpairs" "$MODES_DIR" \
    >"$LOG_FILE" 2>&1 </dev/null &

  local deadline=$((SECONDS + START_WAIT_SECS))
  until running_pid >/dev/null && curl -fsS --max-time 2 "$url" >/dev/null 2>&1; do
    local problem=""
    if [ -f "$PID_FILE" ] && ! running_pid >/dev/null; then
      problem="apertium-apy exited before answering $url"
    elif [ "$SECONDS" -ge "$deadline" ]; then
      problem="apertium-apy did not answer $url within ${START_WAIT_SECS}s"
    fi
    if [ -n "$problem" ]; then
      echo "$problem; log tail ($LOG_FILE):" >&2
      tail -n 20 "$LOG_FILE" >&2 || true
      stop
      exit 1
    fi
    sleep 0.5
  done
  if [ -n "${APERTIUM_OWNER_PID:-}" ]; then
    # Stops the server once the owner (a test run sharing it) has exited;
    # detached and silent so the caller is not kept waiting on our output.
    local owner="$APERTIUM_OWNER_PID" remove="${APERTIUM_REMOVE_RUN_DIR:-0}"
    [[ "$owner" =~ ^[0-9]+$ ]] || usage
    APERTIUM_RUN_DIR="$RUN_DIR" setsid bash -c \
      'tail --pid="$1" -f /dev/null; bash "$2" stop; [ "$3" != 1 ] || bash "$2" clean' \
      sh "$owner" "$0" "$remove" >/dev/null 2>&1 </dev/null &
  fi
  echo "apertium-apy listening on 127.0.0.1:$port (pid $(cat "$PID_FILE"))" >&2
}

stop() {
  local pid
  if pid="$(running_pid)"; then
    # setsid made the server a process-group leader: end the group, which includes
    # the translation pipelines it spawned, and nothing else.
    kill -- "-$pid" 2>/dev/null || kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 20); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.25
    done
    kill -0 "$pid" 2>/dev/null && kill -9 -- "-$pid" 2>/dev/null || true
  fi
  rm -f "$PID_FILE"
}

# Removes what start put in the run directory, then the directory if that left it
# empty (never anything else: it may be a folder of the caller's).
clean() {
  local pid
  if pid="$(running_pid)"; then
    echo "apertium-apy is running (pid $pid): '$0 stop' first" >&2
    exit 1
  fi
  rm -f "$PID_FILE" "$LOG_FILE"
  rm -rf "$RUN_DIR/nonpairs"
  rmdir "$RUN_DIR" 2>/dev/null || true
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop ;;
  clean) clean ;;
  *) usage ;;
esac
