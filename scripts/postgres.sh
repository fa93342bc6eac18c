#!/usr/bin/env bash
# A throwaway PostgreSQL server for the PostgreSQL store's development and tests.
#
#   scripts/postgres.sh install      # Debian's postgresql, only when missing (root)
#   scripts/postgres.sh start PORT   # a fresh cluster on 127.0.0.1:PORT, in the background
#   scripts/postgres.sh stop         # stops the server `start` started, removes its folder
#   scripts/postgres.sh down         # stops that server, keeping its cluster (a restart's first half)
#   scripts/postgres.sh up           # starts the cluster `down` stopped, on its port, once ready
#
# The cluster (data, log, socket) lives in $POSTGRES_RUN_DIR (default target/postgres)
# and is removed by stop. It has database `crossdesk`, superuser `postgres`, trust
# authentication, and only a loopback TCP listener (plus a socket in the run dir).
# It also speaks TLS, with a certificate for 127.0.0.1 and localhost signed by a CA
# made for it, $POSTGRES_RUN_DIR/tls/ca.crt (clients that ask for TLS trust that).
# start prints the URL, postgres://postgres@127.0.0.1:PORT/crossdesk, on stdout.
# With POSTGRES_OWNER_PID set, start also leaves a watcher that runs stop once that
# process has exited: a test run shares one server and cannot stop it itself.
set -euo pipefail

RUN_DIR="${POSTGRES_RUN_DIR:-target/postgres}"
# Waits for the server to accept connections: a fresh cluster starts in a second or
# two, yet never wait forever.
START_WAIT_SECS="${POSTGRES_START_WAIT_SECS:-60}"
# PostgreSQL refuses to run as root: as root, the cluster belongs to this system user
# (the Debian package creates it).
OS_USER=postgres
DB_USER=postgres
DB_NAME=crossdesk
# Marks a folder that start made, so stop never removes anything else.
MARKER=.crossdesk-postgres

usage() {
  echo "usage: $0 install | start PORT | stop | down | up" >&2
  exit 2
}

bin_dir() {
  # Prints the folder of the server programs: Debian's versioned folder, newest first
  # (the package puts only client wrappers on PATH), else pg_ctl's on PATH.
  local dir pg_ctl
  for dir in $(printf '%s\n' /usr/lib/postgresql/*/bin | sort -rV) \
    "$(pg_ctl="$(command -v pg_ctl)" && dirname "$(readlink -f "$pg_ctl")")"; do
    if [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] &&
      [ -x "$dir/pg_isready" ] && [ -x "$dir/createdb" ]; then
      echo "$dir"
      return 0
    fi
  done
  return 1
}

install() {
  if bin_dir >/dev/null; then
    return 0
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "postgres.sh install: run as root to install postgresql" >&2
    exit 1
  fi
  echo "installing postgresql" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  # The server package creates and starts a cluster `main` on port 5432 unless told
  # not to: nothing here uses it, so have postgresql-common's setting say no first.
  apt-get install -y -qq --no-install-recommends postgresql-common >/dev/null
  local conf=/etc/postgresql-common/createcluster.conf
  if [ -f "$conf" ]; then
    sed -i 's/^#\?\s*create_main_cluster\s*=.*/create_main_cluster = false/' "$conf"
  fi
  apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  bin_dir >/dev/null || {
    echo "postgres.sh install: postgresql installed, yet no pg_ctl/initdb found" >&2
    exit 1
  }
}

as_owner() {
  # Runs a command as the cluster's owner, from / (a folder every user may enter,
  # unlike the caller's working directory perhaps).
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u "$OS_USER" -- "$@")
  else
    (cd / && "$@")
  fi
}

make_certificates() {
  # A CA of this cluster's own and the server's certificate it signs (P-256,
  # valid for a week), with openssl, which Debian's postgresql brings.
  local dir=$1
  mkdir -p "$dir"
  (
    cd "$dir"
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 7 \
      -subj "/CN=crossdesk test CA" -keyout ca.key -out ca.crt 2>/dev/null
    openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
      -subj "/CN=127.0.0.1" -keyout server.key -out server.csr 2>/dev/null
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' >server.ext
    openssl x509 -req -in server.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 7 \
      -extfile server.ext -out server.crt 2>/dev/null
    rm -f ca.key server.csr server.ext ca.srl
    chmod 600 server.key
  )
  if [ "$(id -u)" -eq 0 ]; then
    chown "$OS_USER" "$dir" "$dir/server.key" "$dir/server.crt"
  fi
}

server_running() {
  # True while the server of this run dir is up (pg_ctl reads its postmaster.pid).
  [ -f "$DATA_DIR/postmaster.pid" ] && as_owner "$BIN/pg_ctl" -D "$DATA_DIR" status >/dev/null 2>&1
}

start() {
  local port="${1:-}"
  [[ "$port" =~ ^[0-9]+$ ]] || usage
  BIN="$(bin_dir)" || {
    echo "PostgreSQL is not installed: run '$0 install' first" >&2
    exit 1
  }
  if [ "$(id -u)" -eq 0 ] && ! id "$OS_USER" >/dev/null 2>&1; then
    useradd --system --no-create-home --shell /usr/sbin/nologin "$OS_USER"
  fi
  mkdir -p "$RUN_DIR"
  RUN_DIR="$(cd "$RUN_DIR" && pwd)"
  DATA_DIR="$RUN_DIR/data"
  LOG_FILE="$RUN_DIR/postgres.log"
  if server_running; then
    echo "PostgreSQL already running in $RUN_DIR; '$0 stop' first" >&2
    exit 1
  fi
  # Another server on the port would pass the readiness check below
  # (pg_isready: 0 accepting, 1 rejecting; both mean someone answers).
  local rc=0
  "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -t 2 || rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -eq 1 ]; then
    echo "something already answers on 127.0.0.1:$port; choose another port" >&2
    exit 1
  fi
  rm -rf "$DATA_DIR" "$LOG_FILE"
  touch "$RUN_DIR/$MARKER" "$LOG_FILE"
  if [ "$(id -u)" -eq 0 ]; then
    chown "$OS_USER" "$RUN_DIR" "$LOG_FILE"
    as_owner test -w "$RUN_DIR" || {
      echo "user $OS_USER cannot reach $RUN_DIR (a parent folder is closed to it):" \
        "set POSTGRES_RUN_DIR to a folder under /tmp" >&2
      exit 1
    }
  fi
  # -N: no fsync while creating a cluster that lives for one test run.
  if ! as_owner "$BIN/initdb" -D "$DATA_DIR" -U "$DB_USER" --auth=trust \
    --encoding=UTF8 --locale=C -N >"$LOG_FILE" 2>&1; then
    echo "initdb failed; log ($LOG_FILE):" >&2
    tail -n 20 "$LOG_FILE" >&2 || true
    exit 1
  fi
  make_certificates "$RUN_DIR/tls"
  # A throwaway server: loopback only, socket in the run dir, durability traded for
  # speed (a crash loses the cluster, which stop removes anyway).
  cat >>"$DATA_DIR/postgresql.conf" <<EOF

# scripts/postgres.sh
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$RUN_DIR'
fsync = off
synchronous_commit = off
full_page_writes = off
ssl = on
ssl_cert_file = '$RUN_DIR/tls/server.crt'
ssl_key_file = '$RUN_DIR/tls/server.key'
EOF
  # -w: pg_ctl returns once the server is ready (or has failed to start).
  if ! as_owner "$BIN/pg_ctl" -D "$DATA_DIR" -l "$LOG_FILE" -w -t "$START_WAIT_SECS" \
    start >/dev/null; then
    echo "PostgreSQL did not start on 127.0.0.1:$port; log tail ($LOG_FILE):" >&2
    tail -n 20 "$LOG_FILE" >&2 || true
    stop
    exit 1
  fi
  local deadline=$((SECONDS + START_WAIT_SECS))
  until "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$DB_USER" -t 2; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "PostgreSQL did not accept connections on 127.0.0.1:$port within" \
        "${START_WAIT_SECS}s; log tail ($LOG_FILE):" >&2
      tail -n 20 "$LOG_FILE" >&2 || true
      stop
      exit 1
    fi
    sleep 0.2
  done
  if ! "$BIN/createdb" -h 127.0.0.1 -p "$port" -U "$DB_USER" "$DB_NAME"; then
    echo "could not create database $DB_NAME" >&2
    stop
    exit 1
  fi
  if [ -n "${POSTGRES_OWNER_PID:-}" ]; then
    watch_owner "$POSTGRES_OWNER_PID"
  fi
  echo "PostgreSQL listening on 127.0.0.1:$port (data in $DATA_DIR)" >&2
  echo "postgres://$DB_USER@127.0.0.1:$port/$DB_NAME"
}

watch_owner() {
  # Detached and silent (so the caller reading our stdout is not kept waiting);
  # `tail --pid` returns when the owner exits, whatever way it ends.
  local owner="$1"
  [[ "$owner" =~ ^[0-9]+$ ]] || usage
  POSTGRES_RUN_DIR="$RUN_DIR" setsid bash -c \
    'tail --pid="$1" -f /dev/null; exec bash "$2" stop' sh "$owner" "$0" \
    >/dev/null 2>&1 </dev/null &
}

stop() {
  [ -d "$RUN_DIR" ] || return 0
  RUN_DIR="$(cd "$RUN_DIR" && pwd)"
  DATA_DIR="$RUN_DIR/data"
  if [ ! -f "$RUN_DIR/$MARKER" ]; then
    echo "$RUN_DIR was not made by '$0 start'; leaving it alone" >&2
    return 0
  fi
  if [ -f "$DATA_DIR/postmaster.pid" ]; then
    local pid
    pid="$(head -n 1 "$DATA_DIR/postmaster.pid")"
    if BIN="$(bin_dir)"; then
      # fast: ends the sessions (a test may leave connections open) and shuts down.
      as_owner "$BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t 30 stop >/dev/null 2>&1 || true
    fi
    # The postmaster of this data dir only, should pg_ctl have failed.
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      kill -9 "$pid" 2>/dev/null || true
    fi
  fi
  rm -rf "$RUN_DIR"
}

started_cluster() {
  # Sets BIN, RUN_DIR and DATA_DIR for a cluster that `start` made, or fails.
  RUN_DIR="$(cd "$RUN_DIR" 2>/dev/null && pwd)" && [ -f "$RUN_DIR/$MARKER" ] &&
    [ -d "$RUN_DIR/data" ] || {
    echo "no cluster made by '$0 start' in ${POSTGRES_RUN_DIR:-target/postgres}" >&2
    exit 1
  }
  DATA_DIR="$RUN_DIR/data"
  BIN="$(bin_dir)" || {
    echo "PostgreSQL is not installed" >&2
    exit 1
  }
}

down() {
  # fast: ends the sessions and shuts down cleanly (what is committed is on disk,
  # fsync or not), as an operator's restart does. The cluster stays for `up`.
  started_cluster
  server_running || return 0
  as_owner "$BIN/pg_ctl" -D "$DATA_DIR" -m fast -w -t 30 stop >/dev/null
}

up() {
  started_cluster
  server_running && return 0
  local port
  port="$(sed -n 's/^port = \([0-9]*\)$/\1/p' "$DATA_DIR/postgresql.conf" | tail -n 1)"
  [[ "$port" =~ ^[0-9]+$ ]] || {
    echo "no port in $DATA_DIR/postgresql.conf" >&2
    exit 1
  }
  if ! as_owner "$BIN/pg_ctl" -D "$DATA_DIR" -l "$RUN_DIR/postgres.log" -w \
    -t "$START_WAIT_SECS" start >/dev/null; then
    echo "PostgreSQL did not start again; log tail ($RUN_DIR/postgres.log):" >&2
    tail -n 20 "$RUN_DIR/postgres.log" >&2 || true
    exit 1
  fi
  local deadline=$((SECONDS + START_WAIT_SECS))
  until "$BIN/pg_isready" -q -h 127.0.0.1 -p "$port" -U "$DB_USER" -t 2; do
    if [ "$SECONDS" -ge "$deadline" ]; then
      echo "PostgreSQL did not accept connections on 127.0.0.1:$port again" >&2
      exit 1
    fi
    sleep 0.2
  done
}

case "${1:-}" in
  install) install ;;
  start) start "${2:-}" ;;
  stop) stop ;;
  down) down ;;
  up) up ;;
  *) usage ;;
esac
