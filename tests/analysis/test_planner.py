"""A planner's real list through ``create_app`` (with its lifespan): dated answers, one state per day, margins, caveats.

The fixture ``planner_sites.csv`` is saved as a European spreadsheet would save it (UTF-8 byte order mark,
semicolons, decimal commas, Windows line ends, blank ``precision_m`` cells, a quoted note with commas): 27
villages and aid points on both sides of the former line of contact, along the Azerbaijan-Iran and Armenia-Iran
borders, and in Armenia. Coordinates are the GeoNames points of the places (GeoNames, CC BY 4.0).

Who controlled a place on a day is checked against published reports (:data:`PUBLISHED_CONTROL`), not against
the layer's own sources table.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import openpyxl
import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from shapely.geometry import box, mapping, shape
from testsupport import make_settings

from app.layerstore.zones import to_equal_area
from app.main import create_app
from geodata.manifest import LAYERS_FOLDER

PLANNER_CSV = Path(__file__).parent / "fixtures" / "planner_sites.csv"
HELD = "Armenian forces (Nagorno-Karabakh authorities)"
AZ = "Azerbaijan"
RU = "Russian peacekeeping contingent"

#: (GeoNames id, place, day, who controlled it that day, the published report it is checked against)
PUBLISHED_CONTROL: list[tuple[str, str, str, str, str]] = [
    ("148619", "Aghdam", "2020-11-19", HELD, "Al Jazeera 2020-11-20: army 'entered the Aghdam region on November 20'"),
    ("148619", "Aghdam", "2020-11-20", AZ, "Al Jazeera / Al Arabiya (AFP) 2020-11-20, Azerbaijani defence ministry"),
    ("586268", "Kalbajar", "2020-11-24", HELD, "JAMnews 2020-11-25: handover postponed from 15 to 25 November"),
    ("586268", "Kalbajar", "2020-11-25", AZ, "TASS 2020-11-26: transfer began at 00:00 on 25 November"),
    ("147105", "Shusha", "2020-11-07", HELD, "Al Arabiya (AFP) 2020-11-08: Aliyev announced the capture on 8 Nov"),
    ("147105", "Shusha", "2020-11-08", AZ, "Al Arabiya (AFP) 2020-11-08; UNIAN 2020-11-08"),
    (
        "147625",
        "Lachin",
        "2020-11-10",
        RU,
        "AzerNews 2022-08-26: Lachin city was temporarily controlled by the Russian peacekeepers",
    ),
    (
        "147625",
        "Lachin",
        "2022-08-26",
        AZ,
        "AzerNews / Daily Sabah 2022-08-26: army took control of Lachin, Zabukh and Sus",
    ),
    (
        "148106",
        "Fuzuli",
        "2020-11-10",
        AZ,
        "Dayton Daily News (AP) 2020-11-25: Azerbaijan recaptured the towns of Jabrayil and Fizuli",
    ),
    ("148141", "Jabrayil", "2020-11-10", AZ, "Dayton Daily News (AP) 2020-11-25"),
    (
        "146901",
        "Zangilan",
        "2020-10-20",
        AZ,
        "Anews (Anadolu) 2020-10-20: Aliyev announced the liberation of Zangilan city",
    ),
    (
        "146970",
        "Khankendi",
        "2020-12-01",
        HELD,
        "Daily Asian Age (AFP) 2020-12-01: separatists retain most of the Soviet-era oblast, lost Shusha",
    ),
    ("146969", "Khojavend", "2020-12-01", HELD, "Daily Asian Age (AFP) 2020-12-01 (as above)"),
]


@pytest.fixture(scope="module")
def client(built_data_dir: Path) -> Iterator[TestClient]:
    with TestClient(create_app(make_settings(built_data_dir))) as test_client:
        yield test_client


def _classify(client: TestClient, **params: str) -> dict[str, Any]:
    response = client.post(
        "/analysis/classify",
        params={"format": "json", **params},
        content=PLANNER_CSV.read_bytes(),
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200, response.text
    return response.json()


def _by_geonameid(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["properties"]["geonameid"]: p for p in body["points"]}


def _controllers(point: dict[str, Any], layer: str = "control-2020") -> tuple[set[str], set[str]]:
    """Controllers of the zones the point is inside, and of every zone inside or possibly inside."""
    inside = {z.get("controlled_by", "") for z in point["zones"][layer]}
    return inside, inside | set(point["possibly_controlled_by"])


@pytest.fixture(scope="module")
def answers(client: TestClient) -> dict[str, dict[str, dict[str, Any]]]:
    """The planner list classified on each day of the published table, with the controllers of possible zones."""
    zones = client.get("/collections/control-2020/items", params={"limit": 200}).json()["features"]
    controller = {f["properties"]["id"]: f["properties"]["controlled_by"] for f in zones}
    out = {}
    for day in sorted({row[2] for row in PUBLISHED_CONTROL}):
        points = _by_geonameid(_classify(client, datetime=day, layers="control-2020"))
        for point in points.values():
            possible = point["membership"]["control-2020"]
            point["possibly_controlled_by"] = [controller[z] for z in possible]
        out[day] = points
    return out


def test_the_spreadsheet_export_with_blank_cells_is_answered(client: TestClient) -> None:
    body = _classify(client)
    assert len(body["points"]) == 27
    assert body["datetime"] == "2020-11-10" and body["default"] is True and "10 November 2020" in body["reason"]


@pytest.mark.parametrize(("geonameid", "place", "day", "expected", "citation"), PUBLISHED_CONTROL)
def test_control_on_a_day_matches_the_published_record(answers, geonameid, place, day, expected, citation) -> None:
    inside, possible = _controllers(answers[day][geonameid])
    assert len(inside) <= 1, f"{place} on {day}: more than one state {inside}"
    assert expected in possible, f"{place} on {day}: {citation}; got inside {inside}, possibly {possible}"


def test_where_the_coarse_edge_decides_the_answer_says_possibly(answers) -> None:
    """Zangilan town (GeoNames) falls inside geoBoundaries' Qubadli polygon; its own district is 'possibly'."""
    zangilan = answers["2020-10-20"]["146901"]
    assert [z["unit"] for z in zangilan["zones"]["control-2020"]] == ["Qubadli"]
    assert "Zangilan district: Azerbaijan since 2020-10-20" in [z["name"] for z in zangilan["possibly"]["control-2020"]]
    assert AZ in zangilan["possibly_controlled_by"] and HELD in _controllers(zangilan)[0]


def test_one_state_per_place_per_day(answers) -> None:
    for day, points in answers.items():
        for geonameid, point in points.items():
            assert len(point["zones"]["control-2020"]) <= 1, (day, geonameid)


def test_places_in_iran_and_armenia_are_in_no_district(client: TestClient) -> None:
    """GeoNames country codes are an independent record: no IR or AM place may be inside an Azerbaijani district."""
    points = _classify(client, layers="control-2020,seven-districts")["points"]
    foreign = [p for p in points if p["properties"]["country"] in ("IR", "AM")]
    assert len(foreign) == 9
    for point in foreign:
        assert point["zones"]["control-2020"] == [] and point["zones"]["seven-districts"] == [], point["properties"]


def test_zone_names_are_readable(client: TestClient) -> None:
    shusha = _by_geonameid(_classify(client, layers="control-2020"))["147105"]
    (zone,) = shusha["zones"]["control-2020"]
    assert zone["name"].startswith("Shusha and its rayon") and "Azerbaijan since 2020-11-08" in zone["name"]
    assert zone["since"] == "2020-11-08" and zone["controlled_by"] == AZ


def test_distances_carry_their_margin(client: TestClient) -> None:
    points = _by_geonameid(_classify(client, layers="seven-districts"))
    fuzuli = points["148106"]  # precision_m 2000 in the fixture, line of contact accuracy 1000 m
    assert fuzuli["line_of_contact_margin_km"] == pytest.approx(3.0)
    assert points["148003"]["line_of_contact_margin_km"] == pytest.approx(1.0)  # blank precision: the line's only


def test_notes_list_the_caveats_that_apply(client: TestClient) -> None:
    notes = " | ".join(_classify(client, layers="control-2020")["notes"])
    assert "SCHEMATIC" in notes and "answered for 2020-11-10" in notes
    assert "outside the study area" in notes and "possibly inside" in notes
    assert "+/- line_of_contact_margin_km" in notes


def test_an_interval_is_answered_by_stretches_of_days(client: TestClient) -> None:
    body = _classify(client, layers="control-2020", datetime="2020-11-19/2020-11-21")
    stretches = [(p["period_from"], p["period_to"]) for p in body["periods"]]
    assert stretches == [("2020-11-19", "2020-11-19"), ("2020-11-20", "2020-11-21")]
    aghdam = [_by_geonameid(p)["148619"]["zones"]["control-2020"][0]["controlled_by"] for p in body["periods"]]
    assert aghdam == [HELD, AZ]


def test_csv_output_is_neutralised_and_named(client: TestClient) -> None:
    body = PLANNER_CSV.read_bytes().replace(b"Horadiz", b"=HYPERLINK(1)")
    response = client.post(
        "/analysis/classify",
        params={"format": "csv", "layers": "control-2020"},
        content=body,
        headers={"content-type": "text/csv"},
    )
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert rows[0]["name"] == "'=HYPERLINK(1)"
    assert rows[0]["zone_names_control-2020"].startswith("part held by Azerbaijan throughout (Fuzuli)")


def _fuzuli_box() -> dict[str, Any]:
    """About 20 km x 20 km around Fuzuli town (GeoNames 148106: 39.6009 N, 47.1453 E)."""
    return {"type": "Feature", "id": "fuzuli-box", "geometry": mapping(box(47.03, 39.51, 47.26, 39.69))}


def _covered_share(data_dir: Path, geom: Any) -> float:
    """Share of ``geom`` inside the oblast or the seven districts (the area control-2020 tiles on every day)."""
    parts = [
        g
        for layer in ("seven-districts", "nagorno-karabakh")
        for g in pyogrio.read_dataframe(data_dir / LAYERS_FOLDER / f"{layer}.gpkg", layer=layer).geometry
    ]
    covered = shapely.intersection(geom, shapely.union_all(parts))
    return float(shapely.area(to_equal_area(covered)) / shapely.area(to_equal_area(geom)))


def test_overlap_on_a_day_counts_each_square_km_once(client: TestClient, built_data_dir: Path) -> None:
    response = client.post("/analysis/overlap", params={"layers": "control-2020"}, json=_fuzuli_box())
    assert response.status_code == 200, response.text
    body = response.json()
    shares = sum(row["share_of_input"] for row in body["overlaps"])
    expected = _covered_share(built_data_dir, shape(_fuzuli_box()["geometry"]))
    assert shares == pytest.approx(expected, abs=1e-3)  # every covered km2 in exactly one state of the day
    assert all(row["zone_name"] and row["controlled_by"] for row in body["overlaps"])
    assert all(row["area_margin_km2"] >= 0 for row in body["overlaps"])
    assert body["datetime"] == "2020-11-10" and any("population is indicative" in n for n in body["notes"])


def test_summary_is_for_one_day_with_readable_names(client: TestClient) -> None:
    body = client.get("/analysis/zones/control-2020/summary", params={"datetime": "2020-11-21"}).json()
    names = [z["name"] for z in body["zones"]]
    assert any(n.startswith("Agdam district: Azerbaijan since 2020-11-20") for n in names)
    assert not any("Agdam district: Armenian forces" in n for n in names)
    assert "events" in body["zones"][0], "the event store of the app is read"


def _post_sites(client: TestClient, **params: str):
    return client.post(
        "/analysis/classify",
        params={"layers": "control-2020", **params},
        content=PLANNER_CSV.read_bytes().replace(b"Horadiz", b"=HYPERLINK(1)"),
        headers={"content-type": "text/csv"},
    )


def test_xlsx_has_the_sites_and_the_notes(client: TestClient) -> None:
    response = _post_sites(client, format="xlsx")
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/vnd.openxml")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    sites = list(book["sites"].values)
    header = list(sites[0])
    assert len(sites) == 28 and sites[1][header.index("name")] == "'=HYPERLINK(1)"  # text, not a formula
    about = {row[0]: row[1] for row in book["about"].values}
    assert about["datetime"] == "2020-11-10" and "note" in about


def test_geopackage_is_a_point_layer(client: TestClient, tmp_path: Path) -> None:
    response = _post_sites(client, format="gpkg", datetime="2020-11-21")
    assert response.status_code == 200 and response.headers["content-type"] == "application/geopackage+sqlite3"
    path = tmp_path / "sites.gpkg"
    path.write_bytes(response.content)
    sites = pyogrio.read_dataframe(path, layer="sites")
    assert len(sites) == 27 and sites.crs.to_epsg() == 4326
    aghdam = sites[sites["geonameid"] == "148619"].iloc[0]
    assert "Azerbaijan since 2020-11-20" in aghdam["zone_names_control-2020"]
    assert aghdam.geometry.x == pytest.approx(46.9274) and aghdam.geometry.y == pytest.approx(39.991)


def test_png_map_of_the_sites(client: TestClient) -> None:
    response = _post_sites(client, format="png")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n" and len(response.content) > 20_000
    interval = _post_sites(client, format="png", datetime="2020-11-01/2020-11-30")
    assert interval.status_code == 400 and "one day" in interval.text


def test_openapi_declares_the_bodies_and_their_examples_work(client: TestClient) -> None:
    spec = client.get("/api", params={"f": "json"}).json()
    classify_body = spec["paths"]["/analysis/classify"]["post"]["requestBody"]["content"]
    assert {"application/geo+json", "application/json", "text/csv"} <= set(classify_body)
    overlap_body = spec["paths"]["/analysis/overlap"]["post"]["requestBody"]["content"]
    csv_example = classify_body["text/csv"]["example"]
    response = client.post("/analysis/classify", content=csv_example, headers={"content-type": "text/csv"})
    assert response.status_code == 200 and len(response.json()["features"]) == 2
    geojson = client.post("/analysis/classify", json=classify_body["application/geo+json"]["example"])
    assert geojson.status_code == 200
    area = client.post("/analysis/overlap", json=overlap_body["application/geo+json"]["example"])
    assert area.status_code == 200 and area.json()["overlaps"]
