"""The truces of the 2020 war as a dated layer, from our own curated file ``geodata/truces.toml``.

Each truce is one feature: its start as an ISO 8601 time with the UTC offset of the time zone the text names, the
time in UTC, parties, statements, sources, outcome and the seed events reported as violating it. The geometry is
the area it applied to, the former oblast and the seven districts (the conflict zone, schematic).
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import geopandas as gpd
import shapely

from geodata.crs import STORAGE_CRS
from geodata.errors import BuildCheckFailed
from geodata.layerdefs import LayerDefinition

if TYPE_CHECKING:
    from geodata.builders import BuildContext

DATA_DIR = Path(__file__).resolve().parent


def build_truces(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    """One feature per truce of ``params.data_file``, verified against ``params.data_sha256``."""
    p = d.params
    truces = load_truces(DATA_DIR / p["data_file"], p["data_sha256"], d.id)
    area = shapely.union_all([*ctx.layer("nagorno-karabakh").geometry, *ctx.layer("seven-districts").geometry])
    ordered = sorted(truces, key=lambda t: _utc(t["start_time"]))
    rows = [
        {**_row(t, nxt["start_time"] if nxt else None), "geometry": area}
        for t, nxt in zip(ordered, [*ordered[1:], None], strict=True)
    ]
    return gpd.GeoDataFrame(rows, geometry="geometry", crs=STORAGE_CRS)


def load_truces(path: Path, sha256: str, layer_id: str = "truces") -> list[dict[str, Any]]:
    """The truces of the data file, after checking its sha256 (so a changed file changes the layer version)."""
    data = path.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise BuildCheckFailed(
            f"layer {layer_id!r}: {path.name} has sha256 {digest}, the layer file pins {sha256}; "
            "update data_sha256 in the layer file after checking the change"
        )
    truces: list[dict[str, Any]] = tomllib.loads(data.decode("utf-8"))["truces"]
    for t in truces:
        if _utc(t["start_time"]).tzinfo is None:
            raise BuildCheckFailed(f"layer {layer_id!r}, feature {t['id']!r}: start_time has no UTC offset")
    return truces


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text)
    return value.astimezone(UTC) if value.tzinfo else value


def _row(t: Mapping[str, Any], superseded_at: str | None) -> dict[str, Any]:
    return {
        "id": t["id"],
        "title": t["title"],
        "kind": t["kind"],
        "agreed_on": t["agreed_on"],
        "start_time": t["start_time"],
        "start_time_utc": _utc(t["start_time"]).isoformat().replace("+00:00", "Z"),
        "time_zone": t["time_zone"],
        "time_zone_note": t["time_zone_note"].strip(),
        "time_zone_disputed": bool(t["time_zone_disputed"]),
        "valid_from": t["start_time"],
        "valid_to": superseded_at,
        "parties": t["parties"],
        "mediator": t["mediator"],
        "statements": " ".join(t["statements"].split()),
        "text_source_publisher": t["text_sources"][0]["publisher"],
        "text_source_date": t["text_sources"][0]["date"],
        "text_source_title": t["text_sources"][0]["title"],
        "text_source_url": t["text_sources"][0].get("url"),
        "text_sources": json.dumps(t["text_sources"], ensure_ascii=False),
        "party_sources": json.dumps(t["party_sources"], ensure_ascii=False),
        "outcome": " ".join(t["outcome"].split()),
        "broken_reported_on": t.get("broken_reported_on"),
        "outcome_sources": json.dumps(t["outcome_sources"], ensure_ascii=False),
        "violation_event_ids": "; ".join(t["violation_event_ids"]) or None,
    }
