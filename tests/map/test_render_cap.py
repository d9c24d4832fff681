"""What a static image draws is capped: above MAX_MARKERS events it draws counts per cell, and still counts all."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from app.layerstore import LayerStore
from app.webmap.render import MAX_MARKERS, render_png
from app.webmap.sources import GeoJSONEvents, MapData, StoreZones
from app.webmap.view import parse_view


def _points(count: int) -> list[dict[str, Any]]:
    rng = random.Random(7)
    return [
        {
            "type": "Feature",
            "id": f"cap-{i}",
            "geometry": {"type": "Point", "coordinates": [rng.uniform(46.3, 47.3), rng.uniform(39.3, 40.2)]},
            "properties": {
                "date_start": "2020-10-04",
                "date_end": "2020-10-04",
                "event_type": "Battles",
                "verification": "reported",
                "location_precision": 2 if i % 3 == 0 else 1,  # a third with a ~25 km circle each
            },
        }
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def zones(map_data_dir: Path) -> tuple[StoreZones, dict[str, Any]]:
    store = LayerStore.open(map_data_dir)
    return StoreZones(store), store.manifest


@pytest.mark.parametrize(("count", "aggregated"), [(MAX_MARKERS, False), (MAX_MARKERS + 1, True), (20_000, True)])
def test_events_above_the_cap_are_drawn_as_counts(zones, count: int, aggregated: bool) -> None:
    store_zones, manifest = zones
    data = MapData(zones=store_zones, events=GeoJSONEvents(_points(count)))
    view = parse_view({"zoom": "8", "lat": "39.75", "lon": "46.8", "datetime": "2020-10-04"}, manifest.layers)
    static = render_png(view, manifest, data, width=600, height=400)
    assert static.aggregated is aggregated
    assert static.event_count == count
    assert static.alt.startswith(f"{count:,} reported events")
    assert Image.open(io.BytesIO(static.png)).size == (600, 400)
