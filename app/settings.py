"""Settings, one small class per concern, read from the environment (prefix ``CZMAP_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class GeodataSettings(BaseSettings):
    """Where source files come from and where built layers go."""

    model_config = SettingsConfigDict(env_prefix="CZMAP_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder for built layers and the event store.")
    geodata_mirror: Path | None = Field(None, description="Folder holding the source files; unset to download.")
    cache_dir: Path | None = Field(None, description="Source cache; defaults to <data_dir>/sources.")

    @property
    def source_cache(self) -> Path:
        """Folder that verified source files are cached in."""
        return self.cache_dir or self.data_dir / "sources"


class ServiceSettings(BaseSettings):
    """How the OGC API - Features service runs: where the built layers are, caching, page texts, base map."""

    model_config = SettingsConfigDict(env_prefix="CZMAP_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder holding layers/manifest.json and the built layers.")
    title: str = Field("Conflict-zone map", description="Title of the landing page.")
    description: str = Field(
        "Zone layers of Nagorno-Karabakh, the seven surrounding districts and the Azerbaijan-Iran border zone, "
        "served as OGC API - Features.",
        description="Description on the landing page.",
    )
    cache_max_age: int = Field(3600, ge=0, description="Seconds clients and proxies may reuse a response.")
    cache_control: str | None = Field(
        None, description="Full Cache-Control header; overrides cache_max_age when set (e.g. 'no-cache')."
    )
    cors_origins: list[str] = Field(["*"], description="Origins allowed to read the API from a browser.")
    compress_min_size: int = Field(1024, ge=0, description="Smallest response body (bytes) that is compressed.")
    basemap_url: str | None = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="XYZ tile URL of the base map on HTML pages; empty for none.",
    )
    basemap_attribution: str | None = Field(
        "© OpenStreetMap contributors", description="Attribution shown for the base map tiles."
    )

    @model_validator(mode="after")
    def _basemap_needs_attribution(self) -> ServiceSettings:
        if not self.basemap_url:
            self.basemap_url = None
        elif not self.basemap_attribution:
            raise ValueError("basemap_url is set but basemap_attribution is empty: tile providers require credit")
        return self

    @property
    def cache_header(self) -> str:
        """The Cache-Control header value sent with cacheable responses."""
        return self.cache_control or f"public, max-age={self.cache_max_age}"
