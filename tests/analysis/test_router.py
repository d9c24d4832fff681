"""The analysis routes through ``create_app`` with its lifespan (TestClient), on the real built layers."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import pytest
from analysis_helpers import ea_square, place
from fastapi.testclient import TestClient
from geojson_pydantic import FeatureCollection
from shapely.geometry import mapping
from testsupport import make_event, make_settings

from app.events.auth import SEED_ACTOR
from app.events.service import EventService
from app.events.vocab import ACLED_EVENT_TYPES
from app.main import built_layers, create_app

EVENTS = Path(__file__).parent / "fixtures" / "events.geojson"


def store_fixture_events(service: EventService) -> None:
    """The events of ``fixtures/events.geojson`` written to the app's event store as full records."""
    for feature in json.loads(EVENTS.read_text())["features"]:
        props = feature["properties"]
        lon, lat = feature["geometry"]["coordinates"]
        event = make_event(
            id=f"fixture-{feature['id']}",
            date_start=props["date_start"],
            date_end=props.get("date_end") or props["date_start"],
            lon=lon,
            lat=lat,
            place_name=props["place"],
            geonameid=None,
            event_type=props["event_type"],
            sub_event_type=ACLED_EVENT_TYPES[props["event_type"]][0],
        )
        service.create(SEED_ACTOR, event)


@pytest.fixture(scope="module")
def client(
    built_data_dir: Path, population_tif: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    database = f"sqlite:///{tmp_path_factory.mktemp('analysis') / 'events.sqlite'}"
    analysis = {"population_raster": population_tif, "max_features": 20}
    settings = make_settings(built_data_dir, database_url=database, seed=False, analysis=analysis)
    with TestClient(create_app(settings)) as test_client:
        store_fixture_events(test_client.app.state.events)
        yield test_client


@pytest.fixture
def small_client(built_data_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    analysis = {
        "population_raster": tmp_path / "missing.tif",
        "max_upload_bytes": 2000,
        "max_rows": 5,
        "max_features": 2,
    }
    settings = make_settings(built_data_dir, database_url=f"sqlite:///{tmp_path / 'ev.sqlite'}", analysis=analysis)
    with TestClient(create_app(settings, providers=[built_layers])) as test_client:  # no event store
        yield test_client


def _polygon_fc(*geoms) -> dict:
    return {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "id": f"site-{i}", "geometry": mapping(g), "properties": {}}
            for i, g in enumerate(geoms)
        ],
    }


def _csv_of(places: gpd.GeoDataFrame, ids: list[int]) -> str:
    rows = ["id,latitude,longitude,where_prec"]
    for geonameid in ids:
        lon, lat = place(places, geonameid)
        rows.append(f"{geonameid},{lat},{lon},1")
    return "\n".join(rows) + "\n"


def test_overlap_of_a_square_around_horadiz(client: TestClient, places: gpd.GeoDataFrame) -> None:
    lon, lat = place(places, 148003)
    response = client.post(
        "/analysis/overlap?layers=seven-districts,iran-border-zone&pieces=true",
        json=_polygon_fc(ea_square(lon, lat, 4)),
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["inputs"][0]["area_km2"] == pytest.approx(16, rel=1e-4)
    fuzuli = [r for r in body["overlaps"] if r["zone_id"] == "AZ-FUZ"]
    assert len(fuzuli) == 1 and 0 < fuzuli[0]["share_of_input"] <= 1
    assert sum(r["area_km2"] for r in body["overlaps"] if r["layer"] == "seven-districts") <= 16 + 1e-6
    assert body["inputs"][0]["population"] > 0
    assert "September 2023" in body["population"]["caveat"]
    FeatureCollection.model_validate(body["pieces"])
    assert len(body["pieces"]["features"]) == len(body["overlaps"])


def test_classify_csv_to_csv(client: TestClient, places: gpd.GeoDataFrame) -> None:
    body = _csv_of(places, [148003, 146970, 147105, 174895])
    response = client.post("/analysis/classify?format=csv", content=body, headers={"content-type": "text/csv"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = {r["id"]: r for r in csv.DictReader(io.StringIO(response.text))}
    assert rows["148003"]["zones_seven-districts"] == "AZ-FUZ"
    assert "AZ-5km" in rows["148003"]["zones_iran-border-zone"].split(";")
    assert rows["146970"]["zones_nagorno-karabakh"] == "nkao"
    assert rows["147105"]["zones_nagorno-karabakh"] == "nkao"
    # Goris is in no conflict zone; only in its administrative unit (every point of the map has exactly one)
    assert all(rows["174895"][k] == "" for k in rows["174895"] if k.startswith("zones_") and k != "zones_admin-units")
    assert rows["174895"]["zones_admin-units"] == "ARM"
    assert rows["174895"]["nearest_place_id"] == "174895"


def test_classify_geojson_keeps_ids_and_properties(client: TestClient) -> None:
    fc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "id": "clinic-7",
                "geometry": {"type": "Point", "coordinates": [46.7528, 39.8177]},
                "properties": {"beds": 40, "where_prec": 2},
            }
        ],
    }
    response = client.post("/analysis/classify", json=fc)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    body = response.json()
    FeatureCollection.model_validate(body)
    feature = body["features"][0]
    assert feature["id"] == "clinic-7" and feature["properties"]["beds"] == 40
    props = feature["properties"]
    assert props["zones"]["nagorno-karabakh"] == [{"id": "nkao", "name": "Nagorno-Karabakh Autonomous Oblast"}]
    # 25 km around Stepanakert reaches the oblast boundary: possibly inside, not certainly
    assert props["membership"]["nagorno-karabakh"] == {"nkao": "possibly inside"}
    assert props["line_of_contact_km"] > 0 and props["iran_border_km"] > 50
    assert props["nearest_place"]["id"] == "146970"


def test_classify_json_format(client: TestClient) -> None:
    point = {"type": "Point", "coordinates": [46.3386, 39.5111]}
    response = client.post("/analysis/classify?format=json&layers=seven-districts", json=point)
    assert response.status_code == 200
    (record,) = response.json()["points"]
    assert record["zones"] == {"seven-districts": []} and record["membership"] == {"seven-districts": {}}


def test_summary_counts_events_in_the_period(client: TestClient) -> None:
    response = client.get("/analysis/zones/nagorno-karabakh/summary?start=2020-09-27&end=2020-11-10")
    assert response.status_code == 200, response.text
    (zone,) = response.json()["zones"]
    # Khankendi twice (shelling), Shusha once (battle); the 2021 event and Goris are left out
    assert zone["events"] == {"Battles": 1, "Explosions/Remote violence": 2}
    assert zone["event_count"] == 3
    assert zone["area_km2"] > 4000 and zone["population"] > 0


def test_summary_of_districts_without_a_period(client: TestClient) -> None:
    body = client.get("/analysis/zones/seven-districts/summary").json()
    zones = {z["id"]: z for z in body["zones"]}
    assert zones["AZ-FUZ"]["events"] == {"Battles": 1, "Explosions/Remote violence": 1}
    assert sum(z["event_count"] for z in body["zones"]) == 2


def test_summary_without_event_store_says_so(small_client: TestClient) -> None:
    body = small_client.get("/analysis/zones/seven-districts/summary").json()
    assert "events" not in body["zones"][0]
    assert any("event" in note for note in body["notes"])
    assert body["zones"][0]["population"] is None and "no population raster" in body["population"]["caveat"]


@pytest.mark.parametrize(
    ("method", "url", "kwargs", "status", "message"),
    [
        ("get", "/analysis/zones/atlantis/summary", {}, 404, "unknown layer 'atlantis'"),
        (
            "post",
            "/analysis/overlap?layers=atlantis",
            {"json": {"type": "Point", "coordinates": [0, 0]}},
            404,
            "atlantis",
        ),
        ("post", "/analysis/overlap", {"content": b"{not json"}, 400, "not valid JSON"),
        ("post", "/analysis/overlap?colour=red", {"json": {}}, 400, "unknown query parameter(s): colour"),
        ("get", "/analysis/zones/seven-districts/summary?start=2020-11-10&end=2020-09-27", {}, 400, "is after end"),
        ("post", "/analysis/overlap", {"json": {"type": "Point", "coordinates": [46.5, 39.5]}}, 422, "classify"),
        (
            "post",
            "/analysis/classify",
            {"content": b"lat,lon\nx,1\n", "headers": {"content-type": "text/csv"}},
            422,
            "row 1",
        ),
        (
            "post",
            "/analysis/classify",
            {"content": b"<a/>", "headers": {"content-type": "application/xml"}},
            415,
            "xml",
        ),
    ],
)
def test_errors_are_json_with_the_reason(client: TestClient, method, url, kwargs, status, message) -> None:
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == status, response.text
    assert message in response.json()["description"]


def test_invalid_geometry_is_422_with_reason_or_repaired(client: TestClient) -> None:
    bowtie = {"type": "Polygon", "coordinates": [[[46, 39], [47, 40], [47, 39], [46, 40], [46, 39]]]}
    refused = client.post("/analysis/overlap", json=bowtie)
    assert refused.status_code == 422 and "Self-intersection" in refused.json()["description"]
    repaired = client.post("/analysis/overlap?repair=true&layers=nagorno-karabakh", json=bowtie)
    assert repaired.status_code == 200
    assert repaired.json()["inputs"][0]["area_km2"] > 0


def test_bad_format_value_is_rejected(client: TestClient) -> None:
    response = client.post("/analysis/classify?format=docx", json={"type": "Point", "coordinates": [46.5, 39.5]})
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "InvalidParameterValue" and body["parameter"] == "format"
    assert body["problems"][0]["field"] == "format"


def test_oversized_body_is_413(small_client: TestClient) -> None:
    response = small_client.post(
        "/analysis/classify", content=b"lat,lon\n" + b"39.5,46.5\n" * 300, headers={"content-type": "text/csv"}
    )
    assert response.status_code == 413 and "bytes" in response.json()["description"]
    assert response.json()["code"] == "PayloadTooLarge" and "2,000 bytes" in response.json()["description"]


def test_oversized_chunked_body_is_413_while_read(small_client: TestClient) -> None:
    chunks = (b"lat,lon\n" + b"39.5,46.5\n" * 50 for _ in range(10))  # no Content-Length: counted as it comes
    response = small_client.post("/analysis/classify", content=chunks, headers={"content-type": "text/csv"})
    assert "content-length" not in {k.lower() for k in response.request.headers}
    assert response.status_code == 413 and response.json()["parameter"] == "body"


def test_too_many_rows_and_features_are_413(small_client: TestClient) -> None:
    rows = small_client.post(
        "/analysis/classify", content=b"lat,lon\n" + b"39.5,46.5\n" * 6, headers={"content-type": "text/csv"}
    )
    assert rows.status_code == 413 and "points" in rows.json()["description"]
    square = ea_square(46.5, 39.5, 1)
    features = small_client.post("/analysis/overlap", json=_polygon_fc(square, square, square))
    assert features.status_code == 413 and "features" in features.json()["description"]


def test_openapi_documents_the_parameters(client: TestClient) -> None:
    spec = client.get("/api").json()
    params = {p["name"]: p for p in spec["paths"]["/analysis/overlap"]["post"]["parameters"]}
    assert set(params) == {"layers", "repair", "pieces", "datetime"} and params["repair"]["description"]
