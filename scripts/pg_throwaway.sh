#!/usr/bin/env bash
# Start (or stop) a throwaway PostgreSQL cluster on 127.0.0.1 for the database tests.
#   source scripts/pg_throwaway.sh start   -> exports MONILAB_TEST_POSTGRES_URL
#   bash scripts/pg_throwaway.sh stop
# The cluster lives in a temporary directory and trusts local connections; it is for tests only.
set -u
PG_PORT="${MONILAB_PG_PORT:-54329}"
PG_DIR="${MONILAB_PG_DIR:-/tmp/monilab-pg-$PG_PORT}"
PG_BIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb 2>/dev/null | sort -V | tail -1)")"

_as_pg() {
  if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi
}

case "${1:-start}" in
  start)
    if [ ! -x "$PG_BIN/initdb" ]; then
      echo "pg_throwaway: PostgreSQL is not installed; database tests will run on SQLite only" >&2
      return 0 2>/dev/null || exit 0
    fi
    _as_pg "$PG_BIN/pg_ctl -D $PG_DIR/data stop -m immediate" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"
    [ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
    _as_pg "$PG_BIN/initdb -D $PG_DIR/data -A trust -U postgres -E UTF8 >$PG_DIR/initdb.log 2>&1"
    _as_pg "$PG_BIN/pg_ctl -D $PG_DIR/data -w -l $PG_DIR/server.log \
      -o \"-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200\" start" >/dev/null
    export MONILAB_TEST_POSTGRES_URL="postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
    echo "pg_throwaway: PostgreSQL on 127.0.0.1:$PG_PORT ($MONILAB_TEST_POSTGRES_URL)"
    ;;
  stop)
    _as_pg "$PG_BIN/pg_ctl -D $PG_DIR/data stop -m fast" >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
    ;;
esac
