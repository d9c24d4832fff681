"""Settings of the event store (env prefix ``CZMAP_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.events.store.base import COUNT_CAP


class EventStoreSettings(BaseSettings):
    """Where events are stored.

    ``CZMAP_DATABASE_URL`` selects the backend: unset or ``sqlite:///path`` for the embedded SQLite file
    (default ``<CZMAP_DATA_DIR>/events.sqlite``), ``postgresql://...`` for PostgreSQL/PostGIS.
    """

    model_config = SettingsConfigDict(env_prefix="CZMAP_", extra="ignore")

    data_dir: Path = Field(default=Path("data"), description="Built layers and the default SQLite file.")
    database_url: str | None = Field(default=None, description="sqlite:///PATH or postgresql://...")
    pool_max_size: int = Field(default=10, ge=1, le=200, description="PostgreSQL connection pool size.")
    max_limit: int = Field(default=10_000, ge=1, description="Largest page a query may ask for.")
    count_cap: int = Field(
        default=COUNT_CAP,
        ge=0,
        description="numberMatched is exact up to this many matches (or the end of the page); left out above.",
    )

    @model_validator(mode="after")
    def _known_scheme(self) -> EventStoreSettings:
        url = self.database_url
        if url and not url.startswith(("sqlite:///", "postgresql://", "postgres://")):
            raise ValueError("database_url must start with sqlite:///, postgresql:// or postgres://")
        return self

    @property
    def backend(self) -> str:
        """``"sqlite"`` or ``"postgis"``."""
        return "postgis" if self.database_url and self.database_url.startswith("postgres") else "sqlite"

    @property
    def sqlite_path(self) -> Path:
        """The SQLite file (meaningful only when :attr:`backend` is ``"sqlite"``)."""
        if self.database_url:
            return Path(self.database_url.removeprefix("sqlite:///"))
        return self.data_dir / "events.sqlite"

    @property
    def layers_dir(self) -> Path:
        """Folder of built layers that zones are computed from."""
        return self.data_dir / "layers"
