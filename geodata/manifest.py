"""The built layers' manifest as typed objects: what ``czmap geodata build`` writes and the service reads.

A light module (pydantic and the standard library only): the service reads the manifest through it without
importing the builders. :mod:`geodata.build` validates the manifest with the same models before writing it,
so the writer and the readers cannot drift apart. Fields added by newer builds are kept (``extra="allow"``)
and reach clients untyped until they are declared here.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

MANIFEST_NAME = "manifest.json"
LAYERS_FOLDER = "layers"


class _Entry(BaseModel):
    model_config = ConfigDict(extra="allow", frozen=True)


class LicenceEntry(_Entry):
    """A licence by name, with the address of its text."""

    name: str
    url: str | None = None


class VariantEntry(_Entry):
    """A display variant: a table of the layer's GeoPackage simplified for one zoom level."""

    layer: str
    tolerance_m: float


class LayerEntry(_Entry):
    """One built layer: its files, extent, validity, licence and map style."""

    id: str
    title: str
    description: str = ""
    keywords: tuple[str, ...] = ()
    version: str
    content_sha256: str = ""
    feature_count: int = Field(0, ge=0)
    geometry_type: str
    bbox: tuple[float, float, float, float]
    valid_from: date | None = None
    valid_to: date | None = None
    licence: LicenceEntry
    attribution: str = ""
    sources: tuple[dict[str, Any], ...] = ()
    properties: dict[str, str] = Field(default_factory=dict)
    files: dict[str, str]
    variants: dict[int, VariantEntry] = Field(default_factory=dict)
    style: dict[str, Any] = Field(default_factory=dict)
    accuracy_m: float = Field(0.0, ge=0, description="Positional accuracy of the features, metres (0: exact).")
    accuracy_note: str = ""
    built_at: str = ""

    @property
    def is_polygonal(self) -> bool:
        """Whether the layer holds areas (a zone layer) rather than lines or points."""
        return self.geometry_type in ("Polygon", "MultiPolygon")

    @property
    def tables(self) -> dict[int | None, str]:
        """GeoPackage table of the full resolution (key ``None``) and of each display zoom."""
        return {None: self.id} | {zoom: v.layer for zoom, v in sorted(self.variants.items())}


class RasterEntry(_Entry):
    """A built raster (the indicative population grid)."""

    path: str
    crs: str = "EPSG:4326"
    bounds: tuple[float, float, float, float] | None = None
    licence: LicenceEntry | None = None
    attribution: str = ""
    caveat: str = ""


class Manifest(_Entry):
    """Every layer and raster of one build, in build order."""

    generated_at: str = ""
    layers: dict[str, LayerEntry]
    rasters: dict[str, RasterEntry] = Field(default_factory=dict)

    def layer(self, layer_id: str) -> LayerEntry:
        """The entry of ``layer_id``; ``KeyError`` names the known layers."""
        try:
            return self.layers[layer_id]
        except KeyError:
            raise KeyError(f"layer {layer_id!r} is not in the manifest; known: {', '.join(self.layers)}") from None


def manifest_path(data_dir: Path) -> Path:
    """Where the manifest of ``data_dir`` lives."""
    return Path(data_dir) / LAYERS_FOLDER / MANIFEST_NAME


def read_manifest(data_dir: Path) -> Manifest:
    """The typed manifest of the last successful build in ``data_dir``.

    Raises ``FileNotFoundError`` (no build yet) or ``pydantic.ValidationError`` (a manifest this code cannot read).
    """
    path = manifest_path(data_dir)
    if not path.exists():
        raise FileNotFoundError(f"no built layers in {data_dir}: run `czmap geodata build` first")
    return Manifest.model_validate_json(path.read_bytes())
