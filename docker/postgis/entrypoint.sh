#!/usr/bin/env bash
# First start on an empty volume: initdb into $PGDATA, then make the service's login role and database, with
# PostGIS and btree_gist created by the superuser (the service's migrations only check they exist). Every
# start then runs the server in the foreground, listening on all interfaces of the container's network.
#   POSTGRES_USER (czmap), POSTGRES_PASSWORD (required), POSTGRES_DB (czmap)
set -euo pipefail
user=${POSTGRES_USER:-czmap}
db=${POSTGRES_DB:-czmap}
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD: the service logs in with it over the network}"
  initdb --pgdata="$PGDATA" --username=postgres --encoding=UTF8 --locale=C.UTF-8 \
    --auth-local=peer --auth-host=scram-sha-256 >/dev/null
  echo "host all all all scram-sha-256" >>"$PGDATA/pg_hba.conf"
  pg_ctl --pgdata="$PGDATA" --wait --options="-c listen_addresses=''" start >/dev/null
  psql --quiet --no-psqlrc --set=ON_ERROR_STOP=1 --username=postgres --dbname=postgres \
    --set=user="$user" --set=password="$POSTGRES_PASSWORD" --set=db="$db" <<'SQL'
CREATE ROLE :"user" LOGIN PASSWORD :'password';
CREATE DATABASE :"db" OWNER :"user";
\connect :"db"
CREATE EXTENSION postgis;
CREATE EXTENSION btree_gist;
SQL
  pg_ctl --pgdata="$PGDATA" --wait --mode=fast stop >/dev/null
  echo "czmap-postgis: initialised $PGDATA with database $db owned by $user"
fi
exec postgres -D "$PGDATA" -c listen_addresses='*'
