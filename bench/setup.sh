#!/usr/bin/env bash
# Prepare the peer side of the API benchmark: Debian packages and a separate venv with pygeoapi from PyPI.
#
#   bench/setup.sh            # idempotent; run as root (apt-get) or with the packages already present
#
# .venv-bench uses Debian's /usr/bin/python3 because pygeoapi's SQLiteGPKG provider loads the SpatiaLite
# extension through sqlite3.enable_load_extension, which the pyenv-built interpreter of .venv lacks.
set -euo pipefail
cd "$(dirname "$0")/.."

BENCH_VENV=${BENCH_VENV:-.venv-bench}
PYGEOAPI_VERSION=${PYGEOAPI_VERSION:-0.21.0}
PY=/usr/bin/python3

need_apt=()
command -v wrk >/dev/null || need_apt+=(wrk)
[ -e /usr/lib/x86_64-linux-gnu/mod_spatialite.so ] || ls /usr/lib/*/mod_spatialite.so >/dev/null 2>&1 \
    || need_apt+=(libsqlite3-mod-spatialite)
[ -e /usr/include/proj.h ] || need_apt+=(libproj-dev proj-bin)
command -v gdal-config >/dev/null || need_apt+=(libgdal-dev)
[ -x "$PY" ] || need_apt+=(python3)
"$PY" -c "import ensurepip" 2>/dev/null || need_apt+=(python3-venv)
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "setup: apt-get install ${need_apt[*]}" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}"
fi

if [ ! -x "$BENCH_VENV/bin/pygeoapi" ]; then
    echo "setup: creating $BENCH_VENV with pygeoapi==$PYGEOAPI_VERSION" >&2
    "$PY" -m venv "$BENCH_VENV"
    "$BENCH_VENV/bin/pip" install --quiet --upgrade pip
    "$BENCH_VENV/bin/pip" install --quiet "pygeoapi==$PYGEOAPI_VERSION" starlette uvicorn py-spy
    # The pyproj wheel bundles its own PROJ (and SQLite); with Debian's SpatiaLite (linked to Debian's PROJ) in the
    # same process that aborts with "free(): invalid pointer". Build pyproj against Debian's PROJ 9.1 instead.
    # (pyproj 3.7 needs PROJ >= 9.2; 3.6.1 compiled with Cython >= 3.1 fails at run time with "expected bytes".)
    "$BENCH_VENV/bin/pip" install --quiet setuptools wheel numpy "cython<3.1"
    "$BENCH_VENV/bin/pip" install --quiet --no-cache-dir --force-reinstall --no-deps --no-build-isolation \
        --no-binary pyproj "pyproj==3.6.1"
    # pygeoapi's OGR provider needs the osgeo bindings: build them against Debian's GDAL (same PROJ, same SQLite).
    "$BENCH_VENV/bin/pip" install --quiet --no-build-isolation "GDAL==$(gdal-config --version)"
fi
# pygeoapi's PostgreSQL provider (the event-store benchmark, bench/EVENTS.md)
"$BENCH_VENV/bin/pip" install --quiet psycopg2-binary geoalchemy2
"$BENCH_VENV/bin/python" - <<'PY'
import sqlite3
conn = sqlite3.connect(":memory:")
conn.enable_load_extension(True)
conn.execute("SELECT load_extension('mod_spatialite.so')")
import pyproj  # noqa: E402  (after SpatiaLite on purpose: this order crashed with the pyproj wheel)

assert pyproj.CRS("EPSG:4326").name == "WGS 84"
from osgeo import gdal  # noqa: E402

import pygeoapi

print(f"setup: pygeoapi {pygeoapi.__version__}, GDAL {gdal.__version__}, SpatiaLite ready")
PY
