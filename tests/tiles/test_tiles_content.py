"""What the tiles hold, decoded: layers where they are, events where they were reported, counts that add up.

Expected positions are computed with morecantile (not with the service's own Mercator code), and every count is
compared with the items API of the same collection and query.
"""

from __future__ import annotations

from typing import Any

import mapbox_vector_tile
import morecantile
import pytest
from fastapi.testclient import TestClient
from shapely.geometry import Point, shape

from app.collections.cql import parse_cql2_text
from app.events.auth import create_key
from app.tiles.events import event_tiles
from app.tiles.grid import TileAddress

TMS = morecantile.tms.get("WebMercatorQuad")
EVENTS = "/collections/events/tiles/WebMercatorQuad"


def decode(body: bytes) -> dict[str, Any]:
    """Layers of a tile, coordinates in tile units from the top-left corner."""
    return dict(mapbox_vector_tile.decode(body, default_options={"y_coord_down": True}))


def tile_units(tile: morecantile.Tile, lon: float, lat: float) -> tuple[float, float]:
    """Where ``lon, lat`` falls in ``tile``, 0..4096 from the top-left corner (by morecantile)."""
    x, y = TMS.xy(lon, lat)
    box = TMS.xy_bounds(tile)
    return (x - box.left) / (box.right - box.left) * 4096, (box.top - y) / (box.top - box.bottom) * 4096


def tile_path(tile: morecantile.Tile) -> str:
    return f"{tile.z}/{tile.y}/{tile.x}"


def matched(client: TestClient, **params: str) -> int:
    """How many events the items API counts for the same query (resulttype=hits: exact)."""
    response = client.get("/collections/events/items", params={"resulttype": "hits", **params})
    return int(response.json()["numberMatched"])


def cell_total(client: TestClient, path: str, **params: str) -> int:
    response = client.get(f"{EVENTS}/{path}", params=params)
    if response.status_code == 204:
        return 0
    return sum(f["properties"]["count"] for f in decode(response.content)["events"]["features"])


def test_lachin_is_drawn_in_the_tile_that_holds_it(client: TestClient) -> None:
    lachin = shape(client.get("/collections/seven-districts/items/AZ-LAC").json()["geometry"])
    inside = lachin.representative_point()
    tile = TMS.tile(inside.x, inside.y, 9)
    features = decode(client.get(f"/collections/seven-districts/tiles/WebMercatorQuad/{tile_path(tile)}").content)
    drawn = {f["properties"]["name"]: f for f in features["seven-districts"]["features"]}
    assert shape(drawn["Lachin"]["geometry"]).buffer(2).contains(Point(tile_units(tile, inside.x, inside.y)))


def test_lachin_is_not_in_a_tile_far_from_it(client: TestClient) -> None:
    tile = TMS.tile(48.5, 41.2, 9)  # north of Baku's coast: no district there
    response = client.get(f"/collections/seven-districts/tiles/WebMercatorQuad/{tile_path(tile)}")
    assert response.status_code == 204 and response.content == b""


def test_layer_tiles_follow_datetime(client: TestClient) -> None:
    path = "/collections/control-2020/tiles/WebMercatorQuad/7/48/80"

    def ids(day: str) -> set[str]:
        return {
            f["properties"]["id"]
            for f in decode(client.get(path, params={"datetime": day}).content)["control-2020"]["features"]
        }

    before, after = ids("2020-09-01"), ids("2020-12-15")
    assert before and after and before != after


def test_gdal_reads_a_tile_where_it_belongs(client: TestClient, tmp_path: Any) -> None:
    import pyogrio

    tile = morecantile.Tile(161, 97, 8)
    where = tmp_path / "8" / "161"
    where.mkdir(parents=True)
    (where / "97.pbf").write_bytes(client.get("/collections/seven-districts/tiles/WebMercatorQuad/8/97/161").content)
    frame = pyogrio.read_dataframe(where / "97.pbf").to_crs("EPSG:4326")  # z/x/y in the path georeferences it
    lachin = frame[frame["name"] == "Lachin"].geometry.iloc[0]
    west, south, east, north = TMS.bounds(tile)
    assert lachin.intersects(Point((west + east) / 2, (south + north) / 2).buffer(0.5))


def test_an_event_lands_in_its_tile_at_its_position(tiles_client: TestClient, event_feature: Any) -> None:
    lon, lat = 46.61234, 39.71234
    key = create_key(tiles_client.app.state.events.store, "editor", "tile test")
    feature = event_feature(901, lon=lon, lat=lat)
    assert (
        tiles_client.post(
            "/collections/events/items", json=feature, headers={"Authorization": f"Bearer {key}"}
        ).status_code
        == 201
    )
    tile = TMS.tile(lon, lat, 15)
    points = decode(tiles_client.get(f"{EVENTS}/{tile_path(tile)}").content)["events"]["features"]
    drawn = next(f for f in points if f["properties"]["id"] == feature["id"])
    assert drawn["geometry"]["coordinates"] == pytest.approx(tile_units(tile, lon, lat), abs=1)
    assert drawn["properties"]["date_start"] == feature["properties"]["date_start"]
    assert drawn["properties"]["sources"] == len(feature["properties"]["sources"])


def test_low_zoom_cells_add_up_to_every_event(tiles_client: TestClient) -> None:
    assert cell_total(tiles_client, "0/0/0") == matched(tiles_client) > 0


def test_cells_of_neighbouring_tiles_count_each_event_once(tiles_client: TestClient) -> None:
    west, south, east, north = tiles_client.get("/collections/events").json()["extent"]["spatial"]["bbox"][0]
    tiles = list(TMS.tiles(west, south, east, north, [6]))
    assert len(tiles) > 1
    assert sum(cell_total(tiles_client, tile_path(t)) for t in tiles) == matched(tiles_client)


@pytest.mark.parametrize(
    "params",
    [{"datetime": "2020-10-01/2020-10-05"}, {"filter": "event_type = 'Battles'"}, {"filter": "fatalities_best > 0"}],
)
def test_datetime_and_filter_select_what_the_items_do(tiles_client: TestClient, params: dict[str, str]) -> None:
    selected = cell_total(tiles_client, "0/0/0", **params)
    assert selected == matched(tiles_client, **params)
    assert 0 < selected < matched(tiles_client)


def test_a_point_tile_over_the_feature_limit_draws_cells(tiles_client: TestClient) -> None:
    settings = tiles_client.app.state.settings.tiles
    collection = tiles_client.app.state.collections.get("events")
    tile = TMS.tile(46.75, 39.82, settings.event_point_zoom)  # Stepanakert: the densest tile of the seed
    points = decode(tiles_client.get(f"{EVENTS}/{tile_path(tile)}").content)["events"]["features"]
    assert len(points) > 3 and all("id" in f["properties"] for f in points)
    capped = event_tiles(collection, settings.model_copy(update={"max_features": 3}))
    cells = decode(capped.tile(TileAddress(tile.z, tile.y, tile.x), None, None))["events"]["features"]
    assert all("id" not in f["properties"] for f in cells)
    bbox = ",".join(str(v) for v in TMS.bounds(tile))
    assert sum(f["properties"]["count"] for f in cells) == matched(tiles_client, bbox=bbox)


def test_tiles_are_revalidated_and_change_with_a_write(tiles_client: TestClient, event_feature: Any) -> None:
    tile = TMS.tile(46.9, 39.9, 5)
    first = tiles_client.get(f"{EVENTS}/{tile_path(tile)}")
    assert first.headers["cache-control"] == "no-cache"
    again = tiles_client.get(f"{EVENTS}/{tile_path(tile)}", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304
    key = create_key(tiles_client.app.state.events.store, "editor", "tile test")
    written = tiles_client.post(
        "/collections/events/items",
        json=event_feature(902, lon=46.9, lat=39.9),
        headers={"Authorization": f"Bearer {key}"},
    )
    assert written.status_code == 201
    after = tiles_client.get(f"{EVENTS}/{tile_path(tile)}", headers={"If-None-Match": first.headers["etag"]})
    assert after.status_code == 200 and after.headers["etag"] != first.headers["etag"]
    assert (
        cell_total(tiles_client, tile_path(tile))
        == sum(f["properties"]["count"] for f in decode(first.content)["events"]["features"]) + 1
    )


def test_layer_tiles_are_cached_publicly(client: TestClient) -> None:
    response = client.get("/collections/seven-districts/tiles/WebMercatorQuad/8/97/161")
    assert response.headers["cache-control"].startswith("public")
    assert response.headers["content-type"] == "application/vnd.mapbox-vector-tile"


@pytest.mark.parametrize("params", [{}, {"filter": "event_type = 'Battles'"}])
def test_summed_cell_counts_equal_the_cells_counted_per_tile(tiles_client: TestClient, params: dict[str, str]) -> None:
    collection = tiles_client.app.state.collections.get("events")
    tiles = event_tiles(collection, tiles_client.app.state.settings.tiles)
    cql = parse_cql2_text(params["filter"]) if params else None
    counts = tiles.cell_counts(None, cql)
    west, south, east, north = tiles_client.get("/collections/events").json()["extent"]["spatial"]["bbox"][0]
    for t in [*TMS.tiles(west, south, east, north, [7]), morecantile.Tile(0, 0, 0)]:
        address = TileAddress(t.z, t.y, t.x)
        summed, counted = tiles.tile(address, None, cql, lambda: counts), tiles.tile(address, None, cql)
        assert cells_of(summed) == cells_of(counted)


def cells_of(body: bytes) -> list[tuple[Any, ...]]:
    """The cells of a tile, in a fixed order: position, count and fatalities."""
    features = decode(body)["events"]["features"] if body else []
    return sorted(
        (*f["geometry"]["coordinates"], f["properties"]["count"], f["properties"]["fatalities"]) for f in features
    )
