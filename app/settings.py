"""Settings, one small class per concern, read from the environment (prefix ``CZMAP_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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
