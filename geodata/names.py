"""The naming policy's table (``names.toml``): display names of contested places and their other forms.

A contested place's display ``name`` is "<name used by 2020 English-language wire reporting> / <the other
side's name>" (e.g. "Stepanakert / Khankendi"). The places layer shows it; the geocoder finds the place by
any of the forms (:func:`name_forms`).
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

NAMES_PATH = Path(__file__).resolve().parent / "names.toml"
#: Name columns the places layer carries for every place (empty where the table has nothing).
NAME_COLUMNS = ("name_en", "other_name", "name_az", "name_hy", "name_ru")


def load_names(path: Path = NAMES_PATH) -> list[dict[str, Any]]:
    """The entries of the names table, each checked to have a display form made of its two names.

    Examples
    --------
    >>> names = {e["display"] for e in load_names()}
    >>> "Stepanakert / Khankendi" in names and "Shusha / Shushi" in names
    True

    """
    entries: list[dict[str, Any]] = tomllib.loads(path.read_text(encoding="utf-8"))["places"]
    for entry in entries:
        if entry["display"] != f"{entry['name_en']} / {entry['other_name']}":
            raise ValueError(f"{path.name}: display {entry['display']!r} is not '<name_en> / <other_name>'")
        if "geonameid" not in entry and not {"id", "lon", "lat"} <= entry.keys():
            raise ValueError(f"{path.name}: {entry['display']!r} needs a geonameid, or an id with lon and lat")
    return entries


def name_forms(entry: Mapping[str, Any]) -> list[str]:
    """Every name a place of the table may be searched by: the display form and each single name.

    Examples
    --------
    >>> name_forms({"display": "Lachin / Berdzor", "name_en": "Lachin", "other_name": "Berdzor", "name_az": "Laçın"})
    ['Lachin / Berdzor', 'Lachin', 'Berdzor', 'Laçın']

    """
    keys = ("display", *NAME_COLUMNS)
    return list(dict.fromkeys(str(entry[k]) for k in keys if entry.get(k)))


def apply_names(
    places: gpd.GeoDataFrame, entries: Sequence[Mapping[str, Any]], country: str = "AZ"
) -> gpd.GeoDataFrame:
    """Give the table's places their display ``name`` and name columns; add the places GeoNames lacks.

    ``places`` has ``id`` (GeoNames ids as strings), ``name`` and ``alternate_names``; the GeoNames name of a
    renamed place moves into its alternate names. Entries without a geonameid become new rows (``country``,
    population 0: GeoNames has no figure for them).
    """
    out = places.copy()
    for column in NAME_COLUMNS:
        out[column] = None
    by_id = {str(e["geonameid"]): e for e in entries if "geonameid" in e}
    for i, fid in enumerate(out["id"]):
        entry = by_id.get(str(fid))
        if entry is None:
            continue
        old = str(out.iloc[i, out.columns.get_loc("name")])
        alternates = {a for a in str(out.iloc[i, out.columns.get_loc("alternate_names")] or "").split("; ") if a}
        out.iloc[i, out.columns.get_loc("alternate_names")] = "; ".join(sorted(alternates | {old}))
        out.iloc[i, out.columns.get_loc("name")] = entry["display"]
        for column in NAME_COLUMNS:
            out.iloc[i, out.columns.get_loc(column)] = entry.get(column)
    extra = [
        {
            "id": e["id"],
            "name": e["display"],
            "country": country,
            "population": 0,
            "alternate_names": "; ".join(name_forms(e)[1:]),
            **{c: e.get(c) for c in NAME_COLUMNS},
            "geometry": shapely.Point(e["lon"], e["lat"]),
        }
        for e in entries
        if "geonameid" not in e
    ]
    if extra:
        out = pd.concat([out, gpd.GeoDataFrame(extra, geometry="geometry", crs=out.crs)], ignore_index=True)
    return gpd.GeoDataFrame(out, geometry="geometry", crs=places.crs)
