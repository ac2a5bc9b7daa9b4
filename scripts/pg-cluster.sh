#!/usr/bin/env bash
# pg-cluster.sh: a throwaway PostgreSQL cluster for tests and benchmarks.
#
#   scripts/pg-cluster.sh start DIR   initdb DIR (as the postgres user when run
#                                     as root: initdb refuses root), start it on
#                                     a free loopback port with its socket in
#                                     DIR, create database refeed, and print
#                                     export lines: REFEED_TEST_POSTGRES (a URL)
#                                     and REFEED_PG_PID
#   scripts/pg-cluster.sh stop DIR    stop it by the PID in DIR/postmaster.pid
#                                     and remove DIR
#
# The cluster trusts local connections (a test cluster, nothing else on it);
# fsync is off, as for any throwaway test database, unless PG_DURABLE=1
# (benchmarks: the figures must be a real database's).
set -euo pipefail

bindir=${PG_BINDIR:-}
if [ -z "$bindir" ]; then
  for d in /usr/lib/postgresql/*/bin; do bindir=$d; done
fi
if [ ! -x "$bindir/initdb" ]; then
  echo "pg-cluster: no PostgreSQL server found (install Debian's postgresql)" >&2
  exit 1
fi

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

cmd=${1:-}
dir=${2:-}
[ -n "$dir" ] || { echo "usage: pg-cluster.sh start|stop DIR" >&2; exit 2; }

case $cmd in
start)
  mkdir -p "$dir"
  [ "$(id -u)" -ne 0 ] || chown postgres: "$dir"
  as_pg "$bindir/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  opts="-c listen_addresses=127.0.0.1 -p $port -k $dir -c max_connections=200"
  if [ -z "${PG_DURABLE:-}" ]; then
    opts="$opts -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
  fi
  as_pg "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 -o "$opts" \
    start >/dev/null || { cat "$dir/server.log" >&2; exit 1; }
  as_pg "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres refeed
  pid=$(head -1 "$dir/data/postmaster.pid")
  echo "export REFEED_TEST_POSTGRES=postgres://postgres@127.0.0.1:$port/refeed?sslmode=disable"
  echo "export REFEED_PG_PID=$pid"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    pid=$(head -1 "$dir/data/postmaster.pid")
    kill -INT "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: pg-cluster.sh start|stop DIR" >&2; exit 2
  ;;
esac
