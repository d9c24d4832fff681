"""Settings of the overlap analysis (environment prefix ``CZMAP_``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from app.analysis.limits import Limits

#: File name of the indicative population raster the pipeline writes next to the layers.
DEFAULT_POPULATION_RASTER = "population.tif"


class AnalysisSettings(BaseSettings):
    """Where the population raster is and how large an analysis request may be."""

    model_config = SettingsConfigDict(env_prefix="CZMAP_", extra="ignore")

    data_dir: Path = Field(Path("data"), description="Folder holding layers/manifest.json and the built layers.")
    population_raster: Path | None = Field(
        None,
        description="Population GeoTIFF (persons per cell: WorldPop, GHS-POP, ...); "
        f"default <data_dir>/layers/{DEFAULT_POPULATION_RASTER}, the indicative raster built from GeoNames.",
    )
    max_upload_bytes: int = Field(64 * 1024 * 1024, gt=0, description="Largest request body accepted.")
    max_features: int = Field(1000, gt=0, description="Most input features in one overlap request.")
    max_vertices: int = Field(200_000, gt=0, description="Most vertices over all input geometries of a request.")
    max_rows: int = Field(1_000_000, gt=0, description="Most points (CSV rows or GeoJSON points) to classify.")
    max_raster_cells: int = Field(50_000_000, gt=0, description="Most raster cells read for one zonal sum.")

    @model_validator(mode="after")
    def _rows_fit_upload(self) -> AnalysisSettings:
        if self.max_features > self.max_rows:
            raise ValueError("max_features must not exceed max_rows")
        return self

    @property
    def population_raster_path(self) -> Path:
        """The configured population raster, or the default one in the data folder."""
        return self.population_raster or self.data_dir / "layers" / DEFAULT_POPULATION_RASTER

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
