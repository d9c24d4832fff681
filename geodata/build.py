"""Build every layer into a data folder: GeoPackage (full resolution + display variants), FlatGeobuf, manifest.

The build writes into a staging folder next to the target and swaps it in only after every layer is built
and checked, so a failed build leaves the previous output untouched and no partial files behind.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import geopandas as gpd
import pyogrio

from geodata import checks, display
from geodata.basemap import BASEMAP_BUILDERS
from geodata.builders import BUILDERS, BuildContext, Builder
from geodata.errors import BuildCheckFailed, LayerDefinitionError
from geodata.layerdefs import LayerDefinition, LayerRegistry
from geodata.manifest import LAYERS_FOLDER, MANIFEST_NAME, Manifest
from geodata.population import PopulationRasterParams, build_population_raster
from geodata.population_figures import figures_frame, load_figures
from geodata.sources import SourceCatalogue

POPULATION_RASTER = "population.tif"
#: GDAL stamps GeoPackages with the current time unless told otherwise; a fixed stamp keeps builds identical.
_FIXED_GPKG_DATE = "2020-11-10T00:00:00Z"
StepCallback = Callable[[str], None]


@dataclass(frozen=True)
class BuiltLayer:
    """A layer as built, before it is written."""

    definition: LayerDefinition
    data: gpd.GeoDataFrame
    variants: dict[int, gpd.GeoDataFrame]


def build_all(
    registry: LayerRegistry,
    catalogue: SourceCatalogue,
    source_paths: Mapping[str, Path],
    data_dir: Path,
    builders: Mapping[str, Builder] = BUILDERS,
    on_step: StepCallback | None = None,
) -> dict[str, Any]:
    """Build, check and write every layer of ``registry``; return the manifest written."""
    builders = {**BASEMAP_BUILDERS, **builders}  # the basemap builder lives in its own module
    ctx = BuildContext(source_paths=dict(source_paths))
    built: dict[str, BuiltLayer] = {}
    for definition in registry:
        if on_step:
            on_step(definition.id)
        built[definition.id] = BuiltLayer(definition, _build_one(ctx, definition, builders), {})
    _add_variants(built)
    data_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=data_dir))
    try:
        layers_meta = {lid: _write_layer(staging, b, catalogue) for lid, b in built.items()}
        manifest = {
            "generated_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "layers": layers_meta,
            "rasters": _write_rasters(staging, source_paths, catalogue, built),
        }
        Manifest.model_validate(manifest)  # what the service will read: refuse to write what it cannot
        (staging / MANIFEST_NAME).write_text(json.dumps(manifest, indent=2, ensure_ascii=False), encoding="utf-8")
        _swap_in(staging, data_dir / LAYERS_FOLDER)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return manifest


def _build_one(ctx: BuildContext, definition: LayerDefinition, builders: Mapping[str, Builder]) -> gpd.GeoDataFrame:
    try:
        builder = builders[definition.builder]
    except KeyError:
        raise LayerDefinitionError(
            f"layer {definition.id!r}: unknown builder {definition.builder!r}; known: {', '.join(builders)}"
        ) from None
    layer = builder(ctx, definition)
    if "id" not in layer.columns:
        raise BuildCheckFailed(f"layer {definition.id!r}: builder returned no 'id' column")
    if layer["id"].duplicated().any():
        raise BuildCheckFailed(
            f"layer {definition.id!r}: duplicate feature ids {sorted(layer['id'][layer['id'].duplicated()])}"
        )
    if definition.valid_from or definition.valid_to:
        layer["valid_from"] = layer.get("valid_from", definition.valid_from)
        layer["valid_to"] = layer.get("valid_to", definition.valid_to)
    checks.check_valid(definition.id, layer)
    ctx.layers[definition.id] = layer
    return layer


def _add_variants(built: dict[str, BuiltLayer]) -> None:
    groups: dict[str, list[str]] = {}
    for lid, b in built.items():
        if b.definition.display.get("coverage_group"):
            groups.setdefault(b.definition.display["coverage_group"], []).append(lid)
        else:
            for zoom, tol in b.definition.display_tolerances_m.items():
                b.variants[zoom] = display.simplify_layer(b.data, tol)
    for members in groups.values():
        zooms = built[members[0]].definition.display_tolerances_m
        for zoom, tol in zooms.items():
            simplified = display.simplify_coverage({m: built[m].data for m in members}, tol)
            for m in members:
                built[m].variants[zoom] = simplified[m]


def _write_layer(folder: Path, built: BuiltLayer, catalogue: SourceCatalogue) -> dict[str, Any]:
    d = built.definition
    sources = [catalogue.get(s) for s in d.sources]
    attribution = catalogue.attribution(d.sources)
    gpkg, fgb = folder / f"{d.id}.gpkg", folder / f"{d.id}.fgb"
    description = f"{d.title}. Licence: {d.licence.name}. {attribution}"
    with _gdal_options({"OGR_CURRENT_DATE": _FIXED_GPKG_DATE}):
        pyogrio.write_dataframe(
            built.data,
            gpkg,
            layer=d.id,
            driver="GPKG",
            layer_options={"DESCRIPTION": description, "IDENTIFIER": d.title},
        )
        for zoom, variant in sorted(built.variants.items()):
            pyogrio.write_dataframe(
                variant,
                gpkg,
                layer=f"{d.id}_z{zoom}",
                driver="GPKG",
                layer_options={
                    "DESCRIPTION": f"Display variant for zoom {zoom}. {description}",
                    "IDENTIFIER": f"{d.title} (zoom {zoom})",
                },
            )
    pyogrio.write_dataframe(built.data, fgb, driver="FlatGeobuf", layer_options={"TITLE": d.title})
    return {
        "id": d.id,
        "title": d.title,
        "description": d.description,
        "keywords": list(d.keywords),
        "version": _version(d, sources),
        "content_sha256": _content_hash(built.data),
        "feature_count": len(built.data),
        "geometry_type": d.geometry_type,
        "bbox": [round(float(v), 6) for v in built.data.total_bounds],
        "valid_from": d.valid_from,
        "valid_to": d.valid_to,
        "accuracy_m": d.accuracy_m,
        "accuracy_note": d.accuracy_note,
        "licence": {"name": d.licence.name, "url": d.licence.url},
        "attribution": attribution,
        "sources": [s.as_metadata() for s in sources],
        "properties": {c: str(t) for c, t in built.data.drop(columns="geometry").dtypes.items()},
        "files": {"gpkg": gpkg.name, "fgb": fgb.name},
        "variants": {
            str(z): {"layer": f"{d.id}_z{z}", "tolerance_m": t} for z, t in sorted(d.display_tolerances_m.items())
        },
        "style": dict(d.style),
        "built_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def _write_rasters(
    folder: Path, source_paths: Mapping[str, Path], catalogue: SourceCatalogue, built: Mapping[str, BuiltLayer]
) -> dict[str, Any]:
    """The indicative population raster, spread from the typed census figures (``population_figures.toml``).

    Built when the places layer is part of the build; each kernel stays inside its own ``admin-units`` unit.
    """
    if "places" not in built or "geonames-cities500" not in source_paths:
        return {}
    figures = load_figures()
    meta_in = figures["meta"]
    places = figures_frame(figures, source_paths["geonames-cities500"])
    params = PopulationRasterParams(
        extent=tuple(meta_in["extent"]),
        source=f"Published census and official figures ({len(places)} entries in geodata/population_figures.toml)",
        tags={"CZMAP_AS_OF": meta_in["as_of"], "CZMAP_TITLE": meta_in["title"]},
    )
    units = built["admin-units"].data if "admin-units" in built else None
    meta = build_population_raster(places, folder / POPULATION_RASTER, params, units)
    geonames = catalogue.get("geonames-cities500")
    meta.update(
        path=POPULATION_RASTER,
        as_of=meta_in["as_of"],
        title=meta_in["title"],
        displaced_note=" ".join(meta_in["displaced_note"].split()),
        figures=[
            {k: (None if v != v else v) for k, v in row.items() if k != "geometry"}
            for row in places.drop(columns=["sigma_km", "empty_radius_km"]).to_dict("records")
        ],
        licence={"name": "CC BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        attribution=(
            "conflict-zone-map population figures (censuses and official figures, each cited); coordinates: "
            + geonames.attribution
        ),
    )
    return {"population": meta}


def _version(definition: LayerDefinition, sources: list[Any]) -> str:
    payload = definition.fingerprint() + "".join(s.sha256 for s in sources)
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


def _content_hash(layer: gpd.GeoDataFrame) -> str:
    digest = hashlib.sha256()
    digest.update(layer.drop(columns="geometry").to_json(orient="records").encode())
    for geom in layer.geometry:
        digest.update(geom.wkb)
    return digest.hexdigest()


@contextlib.contextmanager
def _gdal_options(options: Mapping[str, str]) -> Iterator[None]:
    """Set GDAL configuration options for the duration of a ``with`` block."""
    saved = {k: pyogrio.get_gdal_config_option(k) for k in options}
    pyogrio.set_gdal_config_options(dict(options))
    try:
        yield
    finally:
        pyogrio.set_gdal_config_options(saved)


def _swap_in(staging: Path, target: Path) -> None:
    """Replace ``target`` with ``staging`` by renames within one folder."""
    final = Path(tempfile.mkdtemp(prefix=".built-", dir=target.parent))
    final.chmod(0o755)  # mkdtemp makes it private; the service may run as another user
    for item in staging.iterdir():
        os.replace(item, final / item.name)
    old = target.with_name(f".old-{target.name}-{os.getpid()}")
    if target.exists():
        os.replace(target, old)
    os.replace(final, target)
    shutil.rmtree(old, ignore_errors=True)


def read_manifest(data_dir: Path) -> dict[str, Any]:
    """The manifest of the last successful build in ``data_dir``, as the JSON the build wrote.

    The service reads it typed, through :func:`geodata.manifest.read_manifest`.
    """
    path = data_dir / LAYERS_FOLDER / MANIFEST_NAME
    if not path.exists():
        raise FileNotFoundError(f"no built layers in {data_dir}: run `czmap geodata build` first")
    return json.loads(path.read_text(encoding="utf-8"))
