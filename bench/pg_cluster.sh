#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the event benchmark, sized as a server would be (not the distribution's
# 128 MB default of shared_buffers), on its own port so that the machine's PostgreSQL is left as it is.
#
#   bench/pg_cluster.sh start   # initdb (once) into bench/results/pg, start on 127.0.0.1:5433
#   bench/pg_cluster.sh stop
#
# Then: .venv/bin/python bench/events_vs_pygeoapi.py --pg-port 5433 ...  (pygeoapi is pointed at it too).
# Settings: shared_buffers 4 GB (1/6 of this 24 GB box; PostgreSQL's documentation suggests 25 % of RAM),
# effective_cache_size 12 GB, fsync on (as in production; the benchmark measures reads).
set -euo pipefail
cd "$(dirname "$0")/.."

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}
DATA=${PG_DATA:-$PWD/bench/results/pg}
PORT=${PG_PORT:-5433}
SHARED_BUFFERS=${PG_SHARED_BUFFERS:-4GB}
as_postgres() { if [ "$(id -u)" = 0 ]; then su postgres -s /bin/bash -c "$*"; else bash -c "$*"; fi; }

case "${1:-start}" in
start)
    if [ ! -s "$DATA/PG_VERSION" ]; then
        mkdir -p "$DATA" && [ "$(id -u)" = 0 ] && chown postgres "$DATA"
        as_postgres "$PG_BIN/initdb -D '$DATA' -U postgres --auth=trust -E UTF8 >/dev/null"
        cat >>"$DATA/postgresql.conf" <<CONF
port = $PORT
listen_addresses = '127.0.0.1'
unix_socket_directories = '$DATA'
shared_buffers = $SHARED_BUFFERS
effective_cache_size = 12GB
work_mem = 64MB
maintenance_work_mem = 1GB
max_connections = 50
CONF
    fi
    as_postgres "$PG_BIN/pg_ctl -D '$DATA' -l '$DATA/server.log' -w start" >/dev/null
    echo "PostgreSQL on 127.0.0.1:$PORT (shared_buffers $SHARED_BUFFERS, data $DATA)"
    ;;
stop)
    as_postgres "$PG_BIN/pg_ctl -D '$DATA' -m fast -w stop" >/dev/null && echo "stopped"
    ;;
*)
    echo "usage: $0 start|stop" >&2
    exit 2
    ;;
esac
