"""The service's one settings object: :class:`Settings`, with a section per concern.

Read from the environment once, by :func:`load_settings` (the command line and the module-level ``app`` call
it), then passed to :func:`app.main.create_app`; nothing reads or writes the environment after that. Each
section has a sub-prefix: ``CZMAP_EVENTS__DATABASE_URL`` sets ``settings.events.database_url``. The flat
names of earlier releases (``CZMAP_DATABASE_URL``, ``CZMAP_TILE_URL`` ...) are still read, at lower priority
(:data:`FLAT_NAMES`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from app.analysis.limits import Limits
from app.events.store.base import COUNT_CAP
from geodata.layerdefs import DEFAULT_LAYERS_DIR
from geodata.manifest import LAYERS_FOLDER

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class GeodataSection(_Section):
    """Where source files come from, where they are cached and where the layer declarations are."""

    mirror: Path | None = Field(default=None, description="Folder holding the source files; unset to download them.")
    cache_dir: Path | None = Field(
        default=None, description="Cache of verified source files; default <data_dir>/sources."
    )
    layer_definitions: Path = Field(default=DEFAULT_LAYERS_DIR, description="Folder of the layer files (*.toml).")


class ServiceSection(_Section):
    """Page texts, caching, CORS and compression of the HTTP service."""

    title: str = Field(default="Conflict-zone map", description="Title of the landing page.")
    description: str = Field(
        default="Zone layers of Nagorno-Karabakh, the seven surrounding districts and the Iran border zone, "
        "served as OGC API - Features.",
        description="Description on the landing page.",
    )
    cache_max_age: int = Field(default=3600, ge=0, description="Seconds clients and proxies may reuse a response.")
    cache_control: str | None = Field(
        default=None, description="Full Cache-Control header; overrides cache_max_age when set (e.g. 'no-cache')."
    )
    cors_origins: list[str] = Field(default=["*"], description="Origins allowed to read the API from a browser.")
    compress_min_size: int = Field(default=1024, ge=0, description="Smallest response body (bytes) that is compressed.")
    public_url: str | None = Field(
        default=None, description="Public base URL for links and embed snippets (default: the request's)."
    )
    rate_per_address: float = Field(
        default=50.0, ge=0, description="Requests per second one client address may make on average (0: no limit)."
    )
    burst_per_address: int = Field(
        default=200, ge=1, description="Requests one client address may make at once before rate_per_address applies."
    )
    writes_per_key: float = Field(
        default=60.0, ge=0, description="Event writes per minute one API key may make on average (0: no limit)."
    )
    burst_per_key: int = Field(default=30, ge=1, description="Writes one API key may make at once.")
    auth_failures_per_address: float = Field(
        default=10.0,
        ge=0,
        description="Failed authentications per minute from one address before its authenticated requests are "
        "refused (429) until it waits (0: no lockout).",
    )
    render_concurrency: int = Field(
        default=1, ge=1, le=64, description="Static map images (PNG, SVG, PDF) drawn at once per worker."
    )
    analysis_concurrency: int = Field(default=1, ge=1, le=64, description="Analysis requests run at once per worker.")
    worker_processes: int = Field(
        default=1,
        ge=0,
        le=16,
        description="Processes per server worker that draw static map images and classify points, so that they "
        "do not stall other requests (0: in the server's own threads).",
    )
    worker_tasks: int = Field(
        default=1000,
        ge=1,
        description="Images or classifications a worker process handles before it is replaced (bounds its memory; "
        "image and analysis requests wait the few seconds a new one takes to start).",
    )
    worker_nice: int = Field(
        default=10,
        ge=0,
        le=19,
        description="How much lower the CPU priority of the worker processes is than the server's (nice): when the "
        "cores are busy, reads are served first and images and classifications wait (0: the same priority).",
    )
    worker_deadline: float = Field(
        default=60.0,
        gt=0,
        le=3600,
        description="Seconds an image or classification may go without progress in a worker process (its processes "
        "use no CPU; in all at most ten times this, or ten minutes): the worker is then stopped and replaced, and "
        "its request answered 503 (a stuck worker would otherwise hold its slot for good).",
    )
    malloc_arenas: int = Field(
        default=2,
        ge=0,
        le=64,
        description="glibc malloc arenas per process (0: glibc's default of 8 per core); few arenas keep the "
        "memory of a threaded server from creeping up.",
    )
    busy_wait: float = Field(
        default=10.0,
        ge=0,
        le=300,
        description="Seconds an image or analysis request waits for its turn before it is answered 503 (busy).",
    )
    response_cache_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=0,
        description="Memory for finished responses of the built layers' features, per worker (0: no cache).",
    )

    @property
    def cache_header(self) -> str:
        """The Cache-Control header value sent with cacheable responses."""
        return self.cache_control or f"public, max-age={self.cache_max_age}"


class BasemapSection(_Section):
    """The tile basemap of every map the service draws (the web map and the HTML item previews)."""

    url: str | None = Field(
        default=OSM_TILES, description="XYZ tile URL template ({z}/{x}/{y}, optional {s}); empty for none."
    )
    attribution: str = Field(
        default=OSM_ATTRIBUTION, description="Attribution HTML of the tiles (operator text, not user input)."
    )
    max_zoom: int = Field(default=19, ge=1, le=22, description="Highest zoom level the tile server offers.")

    @field_validator("url")
    @classmethod
    def _xyz_template(cls, value: str | None) -> str | None:
        if not value:
            return None
        parts = urlsplit(value.replace("{s}", "a"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("basemap url must be an http(s) URL template")
        if not all(token in value for token in ("{z}", "{x}", "{y}")):
            raise ValueError("basemap url must contain {z}, {x} and {y}")
        return value

    @model_validator(mode="after")
    def _credited(self) -> BasemapSection:
        if self.url and not self.attribution:
            raise ValueError("basemap url is set but its attribution is empty: tile providers require credit")
        return self

    @property
    def origin(self) -> str | None:
        """Origin of the tile server for the Content-Security-Policy (``{s}`` becomes a wildcard)."""
        if not self.url:
            return None
        parts = urlsplit(self.url.replace("{s}", "*"))
        return f"{parts.scheme}://{parts.netloc}"


class MapSection(_Section):
    """Where the web map finds the API and its static files, and how much it loads."""

    api_base: str = Field(default="", description="Prefix of the OGC API URLs as seen by browsers ('' = same origin).")
    static_url: str = Field(default="/static", description="URL prefix the static files are served under.")
    events_collection: str = Field(default="events", description="Collection id of the reported events.")
    max_events: int = Field(
        default=10_000, ge=100, le=200_000, description="Most events one view loads into the browser."
    )
    page_size: int = Field(default=1_000, ge=10, le=10_000, description="Features requested per page from the API.")
    event_tiles_above: int = Field(
        default=1_000,
        ge=1,
        description="A view holding more events than this draws them from the event vector tiles (counts per area) "
        "instead of loading each one.",
    )
    image_markers: int = Field(
        default=2_000,
        ge=1,
        description="Most events a static image (/map.png, .svg, .pdf) draws one by one; above, the event store counts "
        "them per cell and the image draws the counts, never reading each event.",
    )
    image_cache_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=0,
        description="Memory for rendered /map.png, .svg and .pdf images by view, size and data version (0: none).",
    )
    page_cache_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=0,
        description="Memory for the HTML of /map and /embed by view and address (0: built for every request); "
        "a page is ~11 KB and takes ~20 ms of the server's CPU to build.",
    )

    @property
    def api_origin(self) -> str | None:
        """Origin of the API when it is not served from the page's own origin."""
        parts = urlsplit(self.api_base)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None


class TilesSection(_Section):
    """Vector tiles (OGC API - Tiles): how deep they go, how events are drawn in them, and their cache."""

    max_zoom: int = Field(default=18, ge=0, le=24, description="Deepest tile matrix offered (WebMercatorQuad zoom).")
    event_point_zoom: int = Field(
        default=10,
        ge=0,
        le=24,
        description="From this zoom on, event tiles draw each event as a point; below it, counts per grid cell.",
    )
    max_features: int = Field(
        default=5_000,
        ge=256,
        le=100_000,
        description="Most event points one tile holds; a tile with more matches draws counts per cell instead.",
    )
    cell_pixels: Literal[8, 16, 32, 64] = Field(
        default=16, description="Side of the grid cells events are counted in, in pixels of a 256-pixel tile."
    )
    cache_bytes: int = Field(
        default=32 * 1024 * 1024, ge=0, description="Memory for encoded tiles by data version, per worker (0: none)."
    )


class EventsSection(_Section):
    """The event store (embedded SQLite by default, or PostgreSQL/PostGIS) and its API limits."""

    database_url: str | None = Field(
        default=None, description="sqlite:///PATH or postgresql://...; default <data_dir>/events.sqlite."
    )
    pool_max_size: int = Field(default=10, ge=1, le=200, description="PostgreSQL connection pool size.")
    pool_timeout: float = Field(
        default=0.5,
        gt=0,
        le=30,
        description="Seconds a request waits for a PostgreSQL connection before it is answered 503 (database down).",
    )
    retry_after: int = Field(
        default=2, ge=1, le=3600, description="Retry-After (seconds) of a 503 sent while the database is down."
    )
    sqlite_readers: int = Field(
        default=4,
        ge=1,
        le=64,
        description="SQLite read connections per worker (each keeps a 16 MiB page cache; reads wait for a free one).",
    )
    max_limit: int = Field(default=10_000, ge=1, description="Largest page a query may ask for.")
    page_cache_bytes: int = Field(
        default=16 * 1024 * 1024,
        ge=0,
        description="Memory for answered pages of events by data version and request, per worker (0: none): the "
        "readers of one map ask for the same pages, and a write makes a new version.",
    )
    count_cap: int = Field(
        default=COUNT_CAP, ge=0, description="numberMatched is exact up to this many matches (or the end of the page)."
    )
    seed: bool = Field(default=True, description="On start, load the curated 2020 events into an empty store.")
    max_body_bytes: int = Field(
        default=1_000_000, ge=1_024, le=100_000_000, description="Largest body a write accepts."
    )
    region: tuple[float, float, float, float] = Field(
        default=(43.0, 37.0, 51.0, 42.5),
        description="west, south, east, north (CRS84 degrees): where an event may be written; default Armenia, "
        "Azerbaijan and their borders (JSON in the environment, e.g. [43, 37, 51, 42.5]).",
    )

    @field_validator("region")
    @classmethod
    def _ordered_region(cls, region: tuple[float, float, float, float]) -> tuple[float, float, float, float]:
        west, south, east, north = region
        if not (-180 <= west < east <= 180 and -90 <= south < north <= 90):
            raise ValueError(
                f"region must be west, south, east, north with west < east and south < north, got {region}"
            )
        return region

    @field_validator("database_url")
    @classmethod
    def _known_scheme(cls, url: str | None) -> str | None:
        if url and not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("database_url must start with sqlite:///, postgresql:// or postgres://")
        return url or None

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgis"``."""
        return "postgis" if self.database_url and self.database_url.startswith("postgres") else "sqlite"


class AnalysisSection(_Section):
    """The population raster and how large an analysis request may be."""

    population_raster: Path | None = Field(
        default=None,
        description="Population GeoTIFF (persons per cell); default: the raster named by the layer manifest.",
    )
    # defaults sized for a 2-core machine: about a second of work at each limit (bench/LOAD.md)
    max_upload_bytes: int = Field(
        default=Limits.max_upload_bytes, gt=0, description="Largest analysis request body accepted (bytes)."
    )
    max_features: int = Field(
        default=Limits.max_features, gt=0, description="Most input features in one overlap request."
    )
    max_vertices: int = Field(
        default=Limits.max_vertices,
        gt=0,
        description="Most vertices over all input geometries of a request (counted before the body is parsed).",
    )
    max_rows: int = Field(
        default=Limits.max_rows,
        gt=0,
        description="Most points (CSV rows or GeoJSON points) to classify (a CSV is read no further than this).",
    )
    max_raster_cells: int = Field(
        default=Limits.max_raster_cells, gt=0, description="Most raster cells read for one zonal sum."
    )
    summary_cache_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=0,
        description="Memory for zone summaries by layer, period and data version (0: computed every time).",
    )

    @model_validator(mode="after")
    def _features_fit_rows(self) -> AnalysisSection:
        if self.max_features > self.max_rows:
            raise ValueError("max_features must not exceed max_rows")
        return self

    @property
    def limits(self) -> Limits:
        """The size limits as a plain value object for the domain functions."""
        return Limits(
            max_upload_bytes=self.max_upload_bytes,
            max_features=self.max_features,
            max_vertices=self.max_vertices,
            max_rows=self.max_rows,
            max_raster_cells=self.max_raster_cells,
        )


#: Flat variable names of earlier releases -> (section, field); read when the sectioned name is unset.
FLAT_NAMES: dict[str, tuple[str, str]] = {
    "CZMAP_GEODATA_MIRROR": ("geodata", "mirror"),
    "CZMAP_CACHE_DIR": ("geodata", "cache_dir"),
    "CZMAP_LAYERS_DIR": ("geodata", "layer_definitions"),
    "CZMAP_TITLE": ("service", "title"),
    "CZMAP_CACHE_MAX_AGE": ("service", "cache_max_age"),
    "CZMAP_CACHE_CONTROL": ("service", "cache_control"),
    "CZMAP_PUBLIC_URL": ("service", "public_url"),
    "CZMAP_TILE_URL": ("basemap", "url"),
    "CZMAP_TILE_ATTRIBUTION": ("basemap", "attribution"),
    "CZMAP_TILE_MAX_ZOOM": ("basemap", "max_zoom"),
    "CZMAP_BASEMAP_URL": ("basemap", "url"),
    "CZMAP_BASEMAP_ATTRIBUTION": ("basemap", "attribution"),
    "CZMAP_API_BASE": ("map", "api_base"),
    "CZMAP_MAX_EVENTS": ("map", "max_events"),
    "CZMAP_DATABASE_URL": ("events", "database_url"),
    "CZMAP_POOL_MAX_SIZE": ("events", "pool_max_size"),
    "CZMAP_MAX_LIMIT": ("events", "max_limit"),
    "CZMAP_COUNT_CAP": ("events", "count_cap"),
    "CZMAP_SEED_EVENTS": ("events", "seed"),
    "CZMAP_MAX_BODY_BYTES": ("events", "max_body_bytes"),
    "CZMAP_POPULATION_RASTER": ("analysis", "population_raster"),
    "CZMAP_MAX_UPLOAD_BYTES": ("analysis", "max_upload_bytes"),
    "CZMAP_MAX_FEATURES": ("analysis", "max_features"),
    "CZMAP_MAX_VERTICES": ("analysis", "max_vertices"),
    "CZMAP_MAX_ROWS": ("analysis", "max_rows"),
    "CZMAP_MAX_RASTER_CELLS": ("analysis", "max_raster_cells"),
}


class Settings(BaseSettings):
    """Everything the service and the command line can be told, in one object.

    Examples
    --------
    >>> s = Settings(data_dir="d", events={"database_url": "sqlite:///x.db"})
    >>> s.layers_dir.as_posix(), s.events.backend, s.sqlite_path.as_posix()
    ('d/layers', 'sqlite', 'x.db')

    """

    model_config = SettingsConfigDict(env_prefix="CZMAP_", env_nested_delimiter="__", extra="ignore", frozen=True)

    data_dir: Path = Field(
        default=Path("data"), description="Folder of the built layers, the source cache and the SQLite store."
    )
    geodata: GeodataSection = Field(default_factory=GeodataSection)
    service: ServiceSection = Field(default_factory=ServiceSection)
    basemap: BasemapSection = Field(default_factory=BasemapSection)
    map: MapSection = Field(default_factory=MapSection)
    events: EventsSection = Field(default_factory=EventsSection)
    tiles: TilesSection = Field(default_factory=TilesSection)
    analysis: AnalysisSection = Field(default_factory=AnalysisSection)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Arguments first, then ``CZMAP_SECTION__FIELD`` variables, then the flat names of earlier releases."""
        return init_settings, env_settings, _FlatNames(settings_cls)

    @property
    def layers_dir(self) -> Path:
        """Folder of the built layers and their manifest."""
        return self.data_dir / LAYERS_FOLDER

    @property
    def source_cache(self) -> Path:
        """Folder that verified source files are cached in."""
        return self.geodata.cache_dir or self.data_dir / "sources"

    @property
    def sqlite_path(self) -> Path:
        """The SQLite event store (meaningful when the events backend is ``sqlite``)."""
        url = self.events.database_url
        return Path(url.removeprefix("sqlite:///")) if url else self.data_dir / "events.sqlite"


class _FlatNames(PydanticBaseSettingsSource):
    """The flat ``CZMAP_*`` names of earlier releases, mapped onto the sections (see :data:`FLAT_NAMES`)."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        """Unused: :meth:`__call__` builds the whole mapping."""
        return None, field_name, False

    def __call__(self) -> dict[str, Any]:
        import os

        found: dict[str, dict[str, Any]] = {}
        for name, (section, key) in FLAT_NAMES.items():
            if name in os.environ:
                found.setdefault(section, {}).setdefault(key, os.environ[name])
        return found


def load_settings(**overrides: Any) -> Settings:
    """The settings from the environment, with ``overrides`` (``data_dir=...``, ``events={...}``) on top.

    The one place that reads ``CZMAP_*`` variables. ``None`` overrides are ignored; a section given as a dict
    is merged into that section as read from the environment.
    """
    given: dict[str, Any] = {
        key: {k: v for k, v in value.items() if v is not None} if isinstance(value, dict) else value
        for key, value in overrides.items()
        if value is not None
    }
    return Settings(**given)
