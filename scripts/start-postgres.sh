#!/usr/bin/env bash
# Starts a throwaway PostgreSQL server for the tests and prints, on stdout, the one line to eval:
#   eval "$(bash scripts/start-postgres.sh)"      # sets WHET_TEST_POSTGRES
# Installs PostgreSQL with apt-get if it is missing. The cluster lives in a temp directory, listens
# on 127.0.0.1 only (first free port from 54329) and runs without fsync: it is for tests, never data.
# Called again while that server still runs, it prints the same line instead of starting another.
# Stop it with: bash scripts/start-postgres.sh --stop
# Everything except the export line goes to stderr.
set -euo pipefail

state_file="${TMPDIR:-/tmp}/whet-test-postgres.$(id -u).env"
log() { echo "start-postgres: $*" >&2; }

# As root, PostgreSQL refuses to run: use the postgres account (created by the Debian package).
as_server_user() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

if [ "${1:-}" = "--stop" ]; then
  if [ -f "$state_file" ]; then
    # shellcheck disable=SC1090
    . "$state_file"
    (cd / && as_server_user "$WHET_PG_BIN/pg_ctl" -D "$WHET_PG_DIR/data" -m fast stop >&2) || true
    rm -rf "$WHET_PG_DIR" "$state_file"
    log "stopped"
  fi
  exit 0
fi

# Reuse the server started by an earlier call, if it still answers.
if [ -f "$state_file" ]; then
  # shellcheck disable=SC1090
  . "$state_file"
  if "$WHET_PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$WHET_PG_PORT" 2>/dev/null; then
    log "reusing the server on port $WHET_PG_PORT ($WHET_PG_DIR)"
    echo "export WHET_TEST_POSTGRES='$WHET_TEST_POSTGRES'"
    exit 0
  fi
  rm -f "$state_file"
fi

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  log "installing postgresql with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql >&2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
port=54329
while port_in_use "$port"; do port=$((port + 1)); done

dir=$(mktemp -d "${TMPDIR:-/tmp}/whet-postgres.XXXXXX")
chmod 755 "$dir"
if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
password=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
user=whet_test
database=whet_test

# cd: the server user may not be allowed into the caller's working directory.
cd "$dir"
as_server_user "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --locale=C.UTF-8 \
  --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 \
  || { cat "$dir/initdb.log" >&2; exit 1; }
as_server_user "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
  -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
  start >&2 || { cat "$dir/server.log" >&2; exit 1; }

# Over the unix socket (trust), as the superuser: a login role with a password that owns the test database.
as_server_user "$bin/psql" -q -v ON_ERROR_STOP=1 -h "$dir" -p "$port" -U postgres -d postgres >&2 <<SQL
CREATE ROLE $user LOGIN PASSWORD '$password';
CREATE DATABASE $database OWNER $user;
SQL

for _ in $(seq 1 60); do
  if PGPASSWORD=$password "$bin/psql" -qtA -h 127.0.0.1 -p "$port" -U "$user" -d "$database" -c 'SELECT 1' >/dev/null 2>&1; then
    connection="Host=127.0.0.1;Port=$port;Username=$user;Password=$password;Database=$database"
    cat >"$state_file" <<STATE
WHET_PG_BIN='$bin'
WHET_PG_DIR='$dir'
WHET_PG_PORT='$port'
WHET_TEST_POSTGRES='$connection'
STATE
    log "PostgreSQL $("$bin/postgres" --version | awk '{print $3}') on 127.0.0.1:$port, data in $dir"
    echo "export WHET_TEST_POSTGRES='$connection'"
    exit 0
  fi
  sleep 0.5
done
log "server did not accept connections; log follows"
cat "$dir/server.log" >&2
exit 1
