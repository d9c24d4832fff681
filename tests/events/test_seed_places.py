"""Where the seed records land among the zone layers built from the mirror (zones computed as the store does).

A record named after a district centre or a town of the former oblast or the seven districts must fall in that
zone; a record placed in Armenia, Iran or Azerbaijan outside the war zone must fall in none of them. Three points
are documented exceptions: the coordinates are the place's own, but the coarse geoBoundaries polygons (see
geodata PROVENANCE.md) or the 1:10m border line put them just outside; the distance is measured here.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyogrio
import pytest
import shapely
from pyproj import Geod
from shapely.ops import nearest_points

from app.events.zones import event_zones
from app.layerstore import LayerStore

SEED_FILE = Path(__file__).resolve().parents[2] / "app" / "events" / "seed" / "events_2020.json"
NKAO = "nagorno-karabakh:nkao"
#: The zone a place name puts a record in: the first matching prefix of ``place_name`` wins.
PLACE_ZONES: list[tuple[str, str]] = [
    ("Stepanakert", NKAO), ("Shusha", NKAO), ("Martuni", NKAO), ("Martakert", NKAO), ("Hadrut", NKAO),
    ("Askeran", NKAO), ("Shosh", NKAO), ("Nngi", NKAO), ("Tugh", NKAO), ("Nagorno-Karabakh conflict zone", NKAO),
    ("Fuzuli", "seven-districts:AZ-FUZ"), ("Horadiz", "seven-districts:AZ-FUZ"),
    ("Gazakhlar", "seven-districts:AZ-FUZ"),
    ("Jabrayil", "seven-districts:AZ-CAB"), ("Khudafarin", "seven-districts:AZ-CAB"),
    ("Zangilan", "seven-districts:AZ-ZAN"), ("Aghband", "seven-districts:AZ-ZAN"),
    ("Qubadli", "seven-districts:AZ-QBI"), ("Lachin", "seven-districts:AZ-LAC"), ("Kalbajar", "seven-districts:AZ-KAL"),
    ("Aghdam", "seven-districts:AZ-AGM"),
]  # fmt: skip
#: Villages located at a place standing for their district carry the district in brackets.
DISTRICT_MARKERS: list[tuple[str, str]] = [
    ("(Aghdam district", "seven-districts:AZ-AGM"), ("(Fuzuli district", "seven-districts:AZ-FUZ"),
    ("(Jabrayil district", "seven-districts:AZ-CAB"), ("(Zangilan district", "seven-districts:AZ-ZAN"),
    ("(Martuni / Khojavend region", NKAO), ("(Askeran / Khojaly region", NKAO),
]  # fmt: skip
#: Place-name markers of records outside the oblast and the seven districts.
OUTSIDE_MARKERS = ("(Armenia", "Armenia)", "(Iran)", "Iran)", "Ganja", "Barda", "Tartar", "Mingachevir", "Goranboy",
                   "Beylagan", "Aghjabadi", "Siyazan", "Kurdamir", "Qabala", "Khizi", "Dashkasan", "Naftalan",
                   "Nakhchivan", "Yeraskh")  # fmt: skip
#: id -> (expected zone, measured distance in km to that zone's polygon, why the point is kept).
DOCUMENTED_EXCEPTIONS = {
    "czm-2020-0061": ("seven-districts:AZ-ZAN", 0.05, "GeoNames Zangilan town; the geoBoundaries polygon is coarse"),
    "czm-2020-0063": ("seven-districts:AZ-ZAN", 0.05, "Aghband is located at Zangilan town (district level)"),
    "czm-2020-0055": ("seven-districts:AZ-CAB", 0.99, "published bridge coordinate; south of the 1:10m Aras line"),
}
GEOD = Geod(ellps="WGS84")


@pytest.fixture(scope="module")
def records() -> list[dict[str, Any]]:
    return json.loads(SEED_FILE.read_text(encoding="utf-8"))


class Zones:
    """The zones an event gets when it is written (the layer store's index, as the event service asks it)."""

    def __init__(self, store: LayerStore) -> None:
        self.store = store

    def zones_of(self, lon: float, lat: float) -> list[str]:
        return event_zones(self.store.zones, lon, lat)


@pytest.fixture(scope="module")
def zone_index(built_data_dir: Path) -> Zones:
    return Zones(LayerStore.open(built_data_dir))


@pytest.fixture(scope="module")
def polygons(built_data_dir: Path) -> dict[str, Any]:
    layers = built_data_dir / "layers"
    out = {}
    for layer in ("nagorno-karabakh", "seven-districts"):
        frame = pyogrio.read_dataframe(layers / f"{layer}.gpkg", layer=layer)
        out |= {f"{layer}:{fid}": geom for fid, geom in zip(frame["id"], frame.geometry, strict=True)}
    return out


def _expected_zone(place_name: str) -> str | None:
    by_name = next((zone for prefix, zone in PLACE_ZONES if place_name.startswith(prefix)), None)
    return by_name or next((zone for marker, zone in DISTRICT_MARKERS if marker in place_name), None)


def _war_zones(zones: list[str]) -> set[str]:
    return {z for z in zones if z.split(":")[0] in ("nagorno-karabakh", "seven-districts")}


def _distance_km(polygon: Any, lon: float, lat: float) -> float:
    nearest = nearest_points(polygon.boundary, shapely.Point(lon, lat))[0]
    return float(GEOD.inv(lon, lat, nearest.x, nearest.y)[2]) / 1000


def test_named_places_land_in_their_zone(records: list[dict[str, Any]], zone_index: Zones) -> None:
    checked, wrong = 0, []
    for r in records:
        zone = _expected_zone(r["place_name"])
        if zone is None or r["id"] in DOCUMENTED_EXCEPTIONS:
            continue
        checked += 1
        if zone not in zone_index.zones_of(r["lon"], r["lat"]):
            wrong.append((r["id"], r["place_name"], zone, zone_index.zones_of(r["lon"], r["lat"])))
    assert not wrong
    assert checked >= 60


def test_places_outside_the_war_zone_land_in_none_of_its_zones(
    records: list[dict[str, Any]], zone_index: Zones
) -> None:
    outside = [r for r in records if _expected_zone(r["place_name"]) is None]
    assert all(any(m in r["place_name"] for m in OUTSIDE_MARKERS) or "district" in r["place_name"] for r in outside)
    wrong = [(r["id"], r["place_name"]) for r in outside if _war_zones(zone_index.zones_of(r["lon"], r["lat"]))]
    assert not wrong


@pytest.mark.parametrize("event_id", sorted(DOCUMENTED_EXCEPTIONS))
def test_documented_exceptions_are_just_outside_and_say_so(
    records: list[dict[str, Any]], zone_index: Zones, polygons: dict[str, Any], event_id: str
) -> None:
    zone, distance_km, _why = DOCUMENTED_EXCEPTIONS[event_id]
    record = next(r for r in records if r["id"] == event_id)
    assert _expected_zone(record["place_name"]) == zone
    assert zone not in zone_index.zones_of(record["lon"], record["lat"]), "no longer an exception: drop it"
    assert _distance_km(polygons[zone], record["lon"], record["lat"]) == pytest.approx(distance_km, abs=0.02)
    assert "outside" in record["notes"]


def test_khudafarin_point_is_on_the_aras_about_8_km_west_of_khomarlu(records: list[dict[str, Any]]) -> None:
    # The earlier record sat at Khomarlu (Iran); the bridges are on the border river, west of it.
    bridges = next(r for r in records if r["place_name"].startswith("Khudafarin"))
    khomarlu = (47.03288, 39.15889)  # GeoNames 127409
    distance_km = GEOD.inv(bridges["lon"], bridges["lat"], *khomarlu)[2] / 1000
    assert 7 < distance_km < 9
