"""Classification tables for spreadsheets and GIS: XLSX (openpyxl) and GeoPackage, with the answer's notes.

Text cells a spreadsheet would run as a formula (``= + - @``) are neutralised with a leading ``'`` as in CSV
(:func:`app.analysis.output.neutralised`); openpyxl would otherwise store a cell beginning with ``=`` as a
formula. The XLSX has a ``sites`` sheet and an ``about`` sheet (day, layers, notes); the GeoPackage a ``sites``
point layer (EPSG:4326) and the notes in the layer description.
"""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio

from app.analysis.errors import InvalidParameter
from app.analysis.output import neutralised

XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
GPKG_MEDIA_TYPE = "application/geopackage+sqlite3"


def _about(meta: dict[str, Any]) -> pd.DataFrame:
    rows = [("datetime", str(meta.get("datetime", ""))), ("layers", ", ".join(meta.get("layers", [])))]
    if meta.get("reason"):
        rows.append(("default day", str(meta["reason"])))
    rows += [("note", str(note)) for note in meta.get("notes", [])]
    return pd.DataFrame(rows, columns=["item", "value"])


def as_xlsx(frame: pd.DataFrame, meta: dict[str, Any]) -> bytes:
    """An XLSX workbook: ``sites`` (the table) and ``about`` (day, layers and every note)."""
    buffer = io.BytesIO()
    try:
        import openpyxl  # noqa: F401 - a dependency; a server without it answers 400, not 500
    except ImportError:
        raise InvalidParameter("format", "xlsx needs openpyxl, which this server lacks; use csv") from None
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        neutralised(frame).to_excel(writer, sheet_name="sites", index=False)
        neutralised(_about(meta)).to_excel(writer, sheet_name="about", index=False)
    return buffer.getvalue()


def as_gpkg(frame: pd.DataFrame, lon: np.ndarray, lat: np.ndarray, meta: dict[str, Any]) -> bytes:
    """A GeoPackage with the ``sites`` point layer (EPSG:4326); the notes go into the layer's description."""
    sites = gpd.GeoDataFrame(
        frame.reset_index(drop=True).astype({c: str for c in frame.columns if frame[c].dtype == object}),
        geometry=gpd.points_from_xy(lon, lat),
        crs="EPSG:4326",
    )
    description = " | ".join(f"{item}: {value}" for item, value in _about(meta).itertuples(index=False))
    with tempfile.TemporaryDirectory(prefix="czmap-gpkg-") as folder:
        path = Path(folder) / "sites.gpkg"
        pyogrio.write_dataframe(
            sites, path, layer="sites", driver="GPKG", layer_options={"DESCRIPTION": description[:10_000]}
        )
        return path.read_bytes()
