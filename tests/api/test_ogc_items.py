"""Items: paging, bbox, datetime, property filters, CQL2, zoom variants, CRS, formats, caching and CORS."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pyogrio
import pytest
import shapely
from fastapi.testclient import TestClient
from ogc_models import FeaturePage, OneFeature, rels
from pyproj import Transformer


def layer_frame(data_dir: Path, layer_id: str, table: str | None = None):  # noqa: ANN201
    return pyogrio.read_dataframe(data_dir / "layers" / f"{layer_id}.gpkg", layer=table or layer_id)


def page(client: TestClient, url: str) -> FeaturePage:
    response = client.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/geo+json"
    return FeaturePage.model_validate(response.json())


def test_following_next_links_returns_every_feature_once(client: TestClient, built_data_dir: Path) -> None:
    expected = set(layer_frame(built_data_dir, "places")["id"])
    seen: list[str] = []
    url: str | None = "/collections/places/items?limit=100"
    while url:
        body = page(client, url)
        assert body.numberMatched == len(expected)
        assert body.numberReturned == len(body.features)
        seen += [str(f.id) for f in body.features]
        url = next((link.href for link in body.links if link.rel == "next"), None)
    assert sorted(seen) == sorted(expected)


def test_resulttype_hits_counts_without_features(client: TestClient, built_data_dir: Path) -> None:
    box = (46.5, 39.5, 47.0, 40.0)
    frame = layer_frame(built_data_dir, "places")
    expected = int(frame.intersects(shapely.box(*box)).sum())
    body = page(client, "/collections/places/items?resulttype=hits&limit=5&bbox=" + ",".join(map(str, box)))
    assert (body.numberMatched, body.numberReturned, body.features) == (expected, 0, [])
    assert expected > 5 and "next" not in [link.rel for link in body.links]


def test_link_header_repeats_the_paging_links(client: TestClient) -> None:
    response = client.get("/collections/places/items?limit=5&offset=5")
    header = response.headers["link"]
    assert 'rel="next"' in header and 'rel="prev"' in header and "offset=10" in header
    assert response.headers["content-crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"


def test_bbox_matches_an_independent_intersection(client: TestClient, built_data_dir: Path) -> None:
    box = (46.5, 39.5, 47.0, 40.0)
    frame = layer_frame(built_data_dir, "places")
    expected = set(frame.loc[frame.intersects(shapely.box(*box)), "id"])
    body = page(client, "/collections/places/items?limit=1000&bbox=" + ",".join(map(str, box)))
    assert {str(f.id) for f in body.features} == expected
    assert expected


def test_bbox_crs_epsg4326_takes_latitude_first(client: TestClient) -> None:
    lonlat = page(client, "/collections/places/items?limit=1000&bbox=46.5,39.5,47,40")
    latlon = page(client, "/collections/places/items?limit=1000&bbox=39.5,46.5,40,47&bbox-crs=EPSG:4326")
    assert {f.id for f in latlon.features} == {f.id for f in lonlat.features}


def test_datetime_matches_validity(client: TestClient) -> None:
    before = page(client, "/collections/ceasefire-1994-area/items?datetime=2000-01-01")
    after = page(client, "/collections/ceasefire-1994-area/items?datetime=2021-01-01T00:00:00Z")
    last_day = page(client, "/collections/ceasefire-1994-area/items?datetime=2020-11-09/..")
    # validity is half-open, [valid_from, valid_to): the 1994 ceasefire area ends as 10 November begins
    ended = page(client, "/collections/ceasefire-1994-area/items?datetime=2020-11-10/..")
    assert (before.numberMatched, after.numberMatched, last_day.numberMatched, ended.numberMatched) == (1, 0, 1, 0)
    undated = page(client, "/collections/places/items?datetime=1800-01-01&limit=1")
    assert undated.numberMatched > 0, "features without validity match every datetime"


@pytest.mark.parametrize(
    ("datetime", "expected"),
    [
        ("2020-11-08", {"a", "b", "c", "d", "e"} - {"a"}),  # half-open: "a" ends as 8 November begins
        ("2020-11-07", {"a", "b", "c", "d", "e"}),
        ("2020-11-11/..", {"b", "d", "e"}),
        ("../2020-09-30", {"a", "c", "d", "e"}),
        ("2020-11-21T00:00:00Z", {"b", "d"}),
        ("2020-11-08T", {"a", "b", "c", "d", "e"} - {"a"}),  # GDAL's form of a date: the whole day
        ("2020-11-11T/..", {"b", "d", "e"}),
    ],
)
def test_datetime_on_known_validity(tiny_client: TestClient, datetime: str, expected: set[str]) -> None:
    body = page(tiny_client, f"/collections/tiny/items?datetime={datetime}")
    assert {f.id for f in body.features} == expected


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("population > 3000", {"a", "e"}),
        ("kind = 'town' AND NOT (population < 3000)", {"a"}),
        ("name LIKE 'Ha%' OR name LIKE '_achin'", {"b", "c"}),
        ("population BETWEEN 10 AND 3000", {"b", "d"}),
        ("name IN ('Shusha', 'Aghdam')", {"a", "e"}),
        ("kind IS NULL", {"e"}),
        ("S_INTERSECTS(geometry, POLYGON((46.4 39.4, 46.8 39.4, 46.8 39.8, 46.4 39.8, 46.4 39.4)))", {"a", "c"}),
        ("S_INTERSECTS(geometry, BBOX(46.9, 39.5, 47.3, 40.3))", {"b", "d", "e"}),
        ("T_INTERSECTS(INTERVAL(valid_from, valid_to), INTERVAL('2020-11-11', '..'))", {"b", "d", "e"}),
        ("T_BEFORE(valid_to, DATE('2020-11-09'))", {"a"}),
        ("valid_from >= DATE('2020-01-01')", {"b"}),
    ],
)
def test_cql2_filters(tiny_client: TestClient, cql: str, expected: set[str]) -> None:
    response = tiny_client.get("/collections/tiny/items", params={"filter": cql, "filter-lang": "cql2-text"})
    assert response.status_code == 200, response.text
    body = FeaturePage.model_validate(response.json())
    assert {f.id for f in body.features} == expected


def test_property_equality_filters(client: TestClient, built_data_dir: Path) -> None:
    frame = layer_frame(built_data_dir, "places")
    expected = int((frame["country"] == "AZ").sum())
    body = page(client, "/collections/places/items?country=AZ&limit=1")
    assert body.numberMatched == expected
    top = int(frame["population"].max())
    assert page(client, f"/collections/places/items?population={top}").numberMatched >= 1


def test_zoom_serves_the_display_variants(client: TestClient, built_data_dir: Path) -> None:
    def vertices(url: str) -> int:
        return sum(
            shapely.get_num_coordinates(shapely.geometry.shape(f.geometry.model_dump()))
            for f in page(client, url).features
        )

    layer = "seven-districts"
    z6, z8 = vertices(f"/collections/{layer}/items?zoom=5"), vertices(f"/collections/{layer}/items?zoom=8")
    full = vertices(f"/collections/{layer}/items?zoom=14")
    expected_z6 = int(
        shapely.get_num_coordinates(layer_frame(built_data_dir, layer, f"{layer}_z6").geometry.values).sum()
    )
    assert z6 == expected_z6
    assert z6 < z8 < full
    assert full == vertices(f"/collections/{layer}/items")


def test_crs_epsg4326_and_3857_round_trip(client: TestClient) -> None:
    base = page(client, "/collections/places/items?limit=5").features
    swapped = client.get("/collections/places/items?limit=5&crs=http://www.opengis.net/def/crs/EPSG/0/4326")
    assert swapped.headers["content-crs"] == "<http://www.opengis.net/def/crs/EPSG/0/4326>"
    mercator = client.get("/collections/places/items?limit=5&crs=EPSG:3857").json()["features"]
    back = Transformer.from_crs("EPSG:3857", "OGC:CRS84", always_xy=True)
    for original, lat_first, merc in zip(base, swapped.json()["features"], mercator, strict=True):
        lon, lat = original.geometry.coordinates  # type: ignore[union-attr]
        assert lat_first["geometry"]["coordinates"] == pytest.approx([lat, lon])
        assert back.transform(*merc["geometry"]["coordinates"]) == pytest.approx((lon, lat), abs=1e-9)


def test_single_feature(client: TestClient, built_data_dir: Path) -> None:
    frame = layer_frame(built_data_dir, "seven-districts")
    row = frame.iloc[0]
    body = OneFeature.model_validate(client.get(f"/collections/seven-districts/items/{row['id']}").json())
    assert body.properties is not None and body.properties["name"] == row["name"]
    assert shapely.geometry.shape(body.geometry.model_dump()).equals_exact(row.geometry, 1e-9)  # type: ignore[union-attr]
    assert "collection" in rels(body.links)


def test_csv_has_wkt_geometry(client: TestClient) -> None:
    response = client.get("/collections/places/items?limit=7&f=csv")
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.text)))
    geojson = page(client, "/collections/places/items?limit=7").features
    assert [r["id"] for r in rows] == [f.id for f in geojson]
    assert shapely.from_wkt(rows[0]["wkt"]).equals(shapely.geometry.shape(geojson[0].geometry.model_dump()))  # type: ignore[union-attr]


@pytest.mark.parametrize("fmt", ["gpkg", "fgb"])
def test_whole_layer_downloads_are_the_built_files(client: TestClient, built_data_dir: Path, fmt: str) -> None:
    response = client.get(f"/collections/iran-border-zone/items?f={fmt}")
    assert response.status_code == 200
    assert response.content == (built_data_dir / "layers" / f"iran-border-zone.{fmt}").read_bytes()
    assert "attachment" in response.headers["content-disposition"]


def test_etag_and_not_modified(client: TestClient) -> None:
    first = client.get("/collections/places/items?limit=3")
    etag = first.headers["etag"]
    assert etag.startswith('"') and first.headers["cache-control"].startswith("public")
    again = client.get("/collections/places/items?limit=3", headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    other = client.get("/collections/places/items?limit=4", headers={"If-None-Match": etag})
    assert other.status_code == 200 and other.headers["etag"] != etag


def test_cache_control_is_configurable(tiny_client: TestClient) -> None:
    assert tiny_client.get("/collections/tiny").headers["cache-control"] == "public, max-age=60"


def test_cors_open_for_reading(client: TestClient) -> None:
    response = client.get("/collections", headers={"Origin": "https://example.org"})
    assert response.headers["access-control-allow-origin"] == "*"
    preflight = client.options(
        "/collections/places/items", headers={"Origin": "https://example.org", "Access-Control-Request-Method": "GET"}
    )
    assert preflight.status_code == 200
    assert "GET" in preflight.headers["access-control-allow-methods"]


@pytest.mark.parametrize("encoding", ["br", "gzip"])
def test_compression(client: TestClient, encoding: str) -> None:
    response = client.get("/collections/places/items?limit=200", headers={"Accept-Encoding": encoding})
    assert response.headers["content-encoding"] == encoding
    assert json.loads(response.content)["numberReturned"] == 200
