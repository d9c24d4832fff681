"""Settings of the web map (environment prefix ``CZMAP_``)."""

from __future__ import annotations

from urllib.parse import urlsplit

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

OSM_TILES = "https://tile.openstreetmap.org/{z}/{x}/{y}.png"
OSM_ATTRIBUTION = '&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors'


class MapSettings(BaseSettings):
    """Basemap tiles, where the map finds the API and its static files, and loading limits."""

    model_config = SettingsConfigDict(env_prefix="CZMAP_", extra="ignore")

    tile_url: str = Field(
        default=OSM_TILES, description="XYZ tile URL template of the basemap ({z}/{x}/{y}, optional {s})."
    )
    tile_attribution: str = Field(
        default=OSM_ATTRIBUTION, description="Attribution HTML of the basemap, set by the operator (not user input)."
    )
    tile_max_zoom: int = Field(default=19, ge=1, le=22, description="Highest zoom level the tile server offers.")
    api_base: str = Field(default="", description="Prefix of the OGC API URLs as seen by browsers ('' = same origin).")
    static_url: str = Field(default="/static", description="URL prefix the static files are served under.")
    events_collection: str = Field(default="events", description="Collection id of the reported events.")
    max_events: int = Field(
        default=10_000, ge=100, le=200_000, description="Most events one view loads into the browser."
    )
    page_size: int = Field(default=1_000, ge=10, le=10_000, description="Features requested per page from the API.")
    public_url: str | None = Field(
        default=None, description="Public base URL for embed snippets (default: the request's)."
    )

    @field_validator("tile_url")
    @classmethod
    def _tile_url_is_https_template(cls, value: str) -> str:
        parts = urlsplit(value.replace("{s}", "a"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("tile_url must be an http(s) URL template")
        if not all(token in value for token in ("{z}", "{x}", "{y}")):
            raise ValueError("tile_url must contain {z}, {x} and {y}")
        return value

    @property
    def tile_origin(self) -> str:
        """Origin of the tile server for the Content-Security-Policy (``{s}`` becomes a wildcard)."""
        parts = urlsplit(self.tile_url.replace("{s}", "*"))
        return f"{parts.scheme}://{parts.netloc}"

    @property
    def api_origin(self) -> str | None:
        """Origin of the API when it is not served from the page's own origin."""
        parts = urlsplit(self.api_base)
        return f"{parts.scheme}://{parts.netloc}" if parts.scheme and parts.netloc else None
