# The service on the embedded store. Build with the source files beside the context, e.g.
#   docker build --build-context geodata=../shared/geodata -t czmap .
# or without the extra context (then the build downloads the sources from their pinned upstream addresses).
FROM python:3.11-slim AS base
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 CZMAP_DATA_DIR=/var/lib/czmap \
    CZMAP_LAYERS_DIR=/srv/czmap/layers
RUN apt-get update && apt-get install -y --no-install-recommends npm && rm -rf /var/lib/apt/lists/*
WORKDIR /srv/czmap
COPY pyproject.toml README.md ./
COPY app app
COPY geodata geodata
COPY layers layers
COPY scripts scripts
RUN pip install --no-cache-dir . && ./scripts/vendor-assets.sh

FROM base AS layers
COPY --from=geodata . /mirror
RUN CZMAP_GEODATA_MIRROR=/mirror czmap geodata build

FROM base
COPY --from=layers /var/lib/czmap /var/lib/czmap
RUN useradd --system czmap && chown -R czmap /var/lib/czmap
USER czmap
EXPOSE 8000
CMD ["czmap", "serve", "--host", "0.0.0.0", "--port", "8000"]
