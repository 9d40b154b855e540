#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for tests and benchmarks, on 127.0.0.1 only.
#
#   scripts/pgtest.sh start DIR                 create DIR, initdb, start; prints the port
#   scripts/pgtest.sh url DIR [DBNAME]          prints postgres://postgres@127.0.0.1:PORT/DBNAME
#   scripts/pgtest.sh port DIR                  prints the port
#   scripts/pgtest.sh createdb DIR NAME         CREATE DATABASE NAME (no-op when it exists)
#   scripts/pgtest.sh dropdb DIR NAME           DROP DATABASE NAME WITH (FORCE) (no-op when absent)
#   scripts/pgtest.sh psql DIR [PSQL ARGS...]   psql -h 127.0.0.1 -p PORT -U postgres ARGS
#   scripts/pgtest.sh stop DIR                  pg_ctl stop -m fast, then remove DIR
#   scripts/pgtest.sh kill DIR                  pg_ctl stop -m immediate (a crash); keeps DIR
#   scripts/pgtest.sh standby PRIMARY_DIR STANDBY_DIR [--sync]
#                                               pg_basebackup -R into STANDBY_DIR, start it as a
#                                               streaming hot standby; prints its port. --sync
#                                               makes it the primary's synchronous standby
#   scripts/pgtest.sh promote DIR               pg_ctl promote (no-op on a primary)
#
# DIR may be missing or an empty directory (e.g. from mktemp -d); it becomes the postgres
# user's, mode 0700. Inside: data/ (PGDATA), server.log, the Unix socket, port. initdb and
# pg_ctl run as the postgres user (initdb refuses root). Authentication is trust, for
# 127.0.0.1 (and the socket in DIR) only, including replication. fsync stays on.
# Every command is idempotent and quiet on success; errors go to stderr with exit 1.
# The caller stops what it starts (tests: in a finally block or a trap).
set -euo pipefail

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
PGUSER_OS=postgres
PORT_LO=20000 # below the kernel's ephemeral range (32768-60999), where client ports live
PORT_HI=32000
WAIT_S=${PGTEST_WAIT_S:-60}

die() {
  echo "pgtest: $*" >&2
  exit 1
}

usage() {
  sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

# Run a command as the postgres OS user (directly when we already are that user).
as_pg() {
  if [ "$(id -un)" = "$PGUSER_OS" ]; then
    "$@"
  elif [ "$(id -u)" -eq 0 ]; then
    runuser -u "$PGUSER_OS" -- "$@"
  else
    die "run as root or as the $PGUSER_OS user"
  fi
}

abs() { # DIR -> absolute path (DIR need not exist)
  case "$1" in
    /*) printf '%s\n' "${1%/}" ;;
    *) printf '%s/%s\n' "$(pwd)" "${1%/}" ;;
  esac
}

is_cluster() { [ -f "$1/.pgtest" ] && [ -f "$1/data/PG_VERSION" ]; }

port_of() {
  is_cluster "$1" || die "$1 is not a pgtest cluster (start it first)"
  cat "$1/port"
}

running() { as_pg "$PGBIN/pg_ctl" -D "$1/data" status >/dev/null 2>&1; }

psql_at() { # PORT [ARGS...]: psql as the postgres role over TCP, errors stop it
  local port=$1
  shift
  "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$port" -U postgres "$@"
}

sql_value() { # PORT DB SQL -> one value
  psql_at "$1" -d "$2" -A -t -c "$3"
}

# Without ss (iproute2) every port looks free; start_on_free_port then retries on a clash.
port_in_use() { command -v ss >/dev/null && ss -Htan "sport = :$1" 2>/dev/null | grep -q .; }

pick_port() {
  local p i
  for i in $(seq 1 200); do
    p=$((PORT_LO + RANDOM % (PORT_HI - PORT_LO)))
    port_in_use "$p" || {
      echo "$p"
      return 0
    }
  done
  die "no free TCP port found in $PORT_LO..$PORT_HI"
}

# Make DIR: missing or empty, owned by postgres, 0700. Refuses a non-empty foreign directory.
make_dir() {
  local dir=$1
  if [ -e "$dir" ]; then
    [ -d "$dir" ] || die "$dir exists and is not a directory"
    [ -z "$(ls -A "$dir")" ] || die "$dir is not empty and not a pgtest cluster"
  else
    mkdir -p "$dir"
  fi
  chmod 0700 "$dir"
  if [ "$(id -u)" -eq 0 ]; then chown "$PGUSER_OS:" "$dir"; fi
  as_pg test -w "$dir" -a -x "$dir" ||
    die "$dir is not reachable by the $PGUSER_OS user (a parent directory is private; use one under /tmp)"
  as_pg touch "$dir/.pgtest"
}

# Settings every cluster gets (the standby overrides port and socket directory the same way).
write_conf() { # DIR PORT
  as_pg tee -a "$1/data/postgresql.conf" >/dev/null <<EOF

# --- pgtest.sh ---
listen_addresses = '127.0.0.1'
port = $2
unix_socket_directories = '$1'
fsync = on
synchronous_commit = on
max_connections = 200
wal_level = replica
max_wal_senders = 10
wal_keep_size = 256MB
wal_log_hints = on
hot_standby = on
hot_standby_feedback = on
logging_collector = off
log_min_messages = warning
log_line_prefix = '%m [%p] %q%a '
EOF
  as_pg tee "$1/data/pg_hba.conf" >/dev/null <<'EOF'
# pgtest.sh: trust, loopback only (throwaway test clusters)
# TYPE  DATABASE     USER  ADDRESS       METHOD
local   all          all                 trust
host    all          all   127.0.0.1/32  trust
host    replication  all   127.0.0.1/32  trust
EOF
}

# Start DIR's cluster on a free port; retry on another port when the chosen one was taken.
start_on_free_port() { # DIR
  local dir=$1 port tries from
  for tries in 1 2 3 4 5; do
    if [ -f "$dir/port" ]; then port=$(cat "$dir/port"); else port=$(pick_port); fi
    from=$(($(stat -c %s "$dir/server.log" 2>/dev/null || echo 0) + 1))
    as_pg sed -i "s/^port = .*/port = $port/" "$dir/data/postgresql.conf"
    # the last 'port =' line wins; there is exactly one pgtest line, rewritten above
    as_pg sh -c "echo $port > '$dir/port'"
    if as_pg "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t "$WAIT_S" -s start >/dev/null 2>&1; then
      echo "$port"
      return 0
    fi
    if tail -c +"$from" "$dir/server.log" 2>/dev/null | grep -q 'Address already in use\|could not bind'; then
      rm -f "$dir/port"
      continue
    fi
    tail -c +"$from" "$dir/server.log" 2>/dev/null | tail -n 20 >&2 || true
    die "pg_ctl start failed for $dir"
  done
  die "could not start $dir: every port tried was taken"
}

cmd_start() {
  [ $# -eq 1 ] || usage
  local dir
  dir=$(abs "$1")
  if is_cluster "$dir"; then
    if running "$dir"; then
      cat "$dir/port"
      return 0
    fi
  else
    make_dir "$dir"
    as_pg "$PGBIN/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
      --auth=trust -N >"$dir/initdb.log" 2>&1 ||
      {
        cat "$dir/initdb.log" >&2
        die "initdb failed in $dir"
      }
    write_conf "$dir" 0
  fi
  start_on_free_port "$dir"
}

cmd_url() {
  [ $# -ge 1 ] && [ $# -le 2 ] || usage
  local dir
  dir=$(abs "$1")
  printf 'postgres://postgres@127.0.0.1:%s/%s\n' "$(port_of "$dir")" "${2:-postgres}"
}

cmd_port() {
  [ $# -eq 1 ] || usage
  port_of "$(abs "$1")"
}

valid_name() { [[ $1 =~ ^[a-z_][a-z0-9_]{0,62}$ ]] || die "database name '$1': use [a-z_][a-z0-9_]* (at most 63)"; }

cmd_createdb() {
  [ $# -eq 2 ] || usage
  local port
  port=$(port_of "$(abs "$1")")
  valid_name "$2"
  if [ "$(sql_value "$port" postgres "SELECT count(*) FROM pg_database WHERE datname = '$2'")" = 0 ]; then
    psql_at "$port" -d postgres -c "CREATE DATABASE $2" >/dev/null
  fi
}

cmd_dropdb() {
  [ $# -eq 2 ] || usage
  local port
  port=$(port_of "$(abs "$1")")
  valid_name "$2"
  psql_at "$port" -d postgres -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null 2>&1 ||
    psql_at "$port" -d postgres -c "DROP DATABASE IF EXISTS $2 WITH (FORCE)" >/dev/null
}

cmd_psql() {
  [ $# -ge 1 ] || usage
  local port
  port=$(port_of "$(abs "$1")")
  shift
  psql_at "$port" "$@"
}

cmd_stop() {
  [ $# -eq 1 ] || usage
  local dir
  dir=$(abs "$1")
  [ -e "$dir" ] || return 0
  [ -f "$dir/.pgtest" ] || die "$dir is not a pgtest cluster; not removing it"
  if [ -f "$dir/data/PG_VERSION" ] && running "$dir"; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w -t "$WAIT_S" -s stop >/dev/null 2>&1 ||
      as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t "$WAIT_S" -s stop >/dev/null 2>&1 ||
      die "could not stop the cluster in $dir"
  fi
  rm -rf "$dir"
}

cmd_kill() {
  [ $# -eq 1 ] || usage
  local dir
  dir=$(abs "$1")
  is_cluster "$dir" || die "$dir is not a pgtest cluster"
  if running "$dir"; then
    as_pg "$PGBIN/pg_ctl" -D "$dir/data" -m immediate -w -t "$WAIT_S" -s stop >/dev/null ||
      die "could not stop the cluster in $dir"
  fi
}

wait_until() { # SECONDS DESCRIPTION COMMAND...: poll every 0.1 s until COMMAND succeeds
  local secs=$1 what=$2
  shift 2
  local deadline=$((SECONDS + secs))
  until "$@"; do
    [ "$SECONDS" -lt "$deadline" ] || die "timed out after ${secs} s waiting for $what"
    sleep 0.1
  done
}

streaming() { # PRIMARY_PORT APPNAME [sync]
  local want="state = 'streaming'"
  [ "${3:-}" = sync ] && want="$want AND sync_state = 'sync'"
  [ "$(sql_value "$1" postgres "SELECT count(*) FROM pg_stat_replication WHERE application_name = '$2' AND $want" 2>/dev/null)" = 1 ]
}

cmd_standby() {
  [ $# -ge 2 ] && [ $# -le 3 ] || usage
  local pdir sdir sync=0 pport sport app
  pdir=$(abs "$1")
  sdir=$(abs "$2")
  if [ $# -eq 3 ]; then
    [ "$3" = --sync ] || usage
    sync=1
  fi
  pport=$(port_of "$pdir")
  running "$pdir" || die "the primary in $pdir is not running"
  if ! is_cluster "$sdir"; then
    make_dir "$sdir"
    as_pg "$PGBIN/pg_basebackup" -h 127.0.0.1 -p "$pport" -U postgres -D "$sdir/data" \
      -R -X stream -c fast -N >"$sdir/basebackup.log" 2>&1 ||
      {
        cat "$sdir/basebackup.log" >&2
        die "pg_basebackup from $pdir failed"
      }
    app="standby_$(basename "$sdir" | tr -c 'a-zA-Z0-9_\n' '_' | tr 'A-Z' 'a-z')"
    as_pg sh -c "echo '$app' > '$sdir/appname'"
    # The copied postgresql.conf carries the primary's socket dir and port: re-point them.
    as_pg sed -i "s|^unix_socket_directories = .*|unix_socket_directories = '$sdir'|" "$sdir/data/postgresql.conf"
    as_pg rm -f "$sdir/data/postmaster.opts"
    # -R wrote primary_conninfo; the later line wins and names this standby for sync rep.
    as_pg tee -a "$sdir/data/postgresql.auto.conf" >/dev/null <<EOF
primary_conninfo = 'host=127.0.0.1 port=$pport user=postgres application_name=$app'
cluster_name = '$app'
EOF
  fi
  app=$(cat "$sdir/appname")
  if ! running "$sdir"; then start_on_free_port "$sdir" >/dev/null; fi
  sport=$(cat "$sdir/port")
  wait_until "$WAIT_S" "the standby in $sdir to stream from the primary" streaming "$pport" "$app"
  if [ "$sync" -eq 1 ]; then
    psql_at "$pport" -d postgres -c "ALTER SYSTEM SET synchronous_standby_names = 'FIRST 1 ($app)'" \
      -c "SELECT pg_reload_conf()" >/dev/null
    wait_until "$WAIT_S" "the standby in $sdir to become synchronous" streaming "$pport" "$app" sync
  fi
  echo "$sport"
}

cmd_promote() {
  [ $# -eq 1 ] || usage
  local dir port
  dir=$(abs "$1")
  port=$(port_of "$dir")
  running "$dir" || die "the cluster in $dir is not running"
  [ "$(sql_value "$port" postgres "SELECT pg_is_in_recovery()")" = t ] || return 0
  as_pg "$PGBIN/pg_ctl" -D "$dir/data" -w -t "$WAIT_S" -s promote >/dev/null ||
    die "pg_ctl promote failed in $dir"
  wait_until "$WAIT_S" "$dir to leave recovery" primary_at "$port"
}

primary_at() { [ "$(sql_value "$1" postgres "SELECT pg_is_in_recovery()" 2>/dev/null)" = f ]; }

[ $# -ge 1 ] || usage
cmd=$1
shift
case "$cmd" in
  start) cmd_start "$@" ;;
  url) cmd_url "$@" ;;
  port) cmd_port "$@" ;;
  createdb) cmd_createdb "$@" ;;
  dropdb) cmd_dropdb "$@" ;;
  psql) cmd_psql "$@" ;;
  stop) cmd_stop "$@" ;;
  kill) cmd_kill "$@" ;;
  standby) cmd_standby "$@" ;;
  promote) cmd_promote "$@" ;;
  -h | --help | help) usage ;;
  *) usage ;;
esac
