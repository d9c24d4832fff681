"""Rendered /map.png (and .svg) images are kept by view, size and data version, and drawn again after a write."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import unquote

from mapsupport import copy_data_dir, map_client, write_events
from testsupport import make_event

from app.http.response_cache import ResponseStore

VIEW = {"zoom": "7", "width": "400", "height": "300", "datetime": "2020-10-01/2020-10-10"}


def _drawn(alt_header: str) -> int:
    """The count the alt text starts with ("12 reported events between ...")."""
    return int(unquote(alt_header).split(" ", 1)[0].replace(",", ""))


def test_a_repeated_view_is_served_from_the_cache(map_data_dir: Path, tmp_path: Path) -> None:
    with map_client(copy_data_dir(map_data_dir, tmp_path), seed=True) as client:
        store: ResponseStore = client.app.state.image_cache  # type: ignore[attr-defined]
        first = client.get("/map.png", params=VIEW)
        again = client.get("/map.png", params=VIEW)
        assert (store.misses, store.hits) == (1, 1)
        assert again.status_code == 200 and again.headers["content-type"] == "image/png"
        assert again.content == first.content and again.content.startswith(b"\x89PNG")
        for name in ("etag", "x-alt-text", "cache-control"):
            assert again.headers[name] == first.headers[name], name
        revalidated = client.get("/map.png", params=VIEW, headers={"if-none-match": first.headers["etag"]})
        assert revalidated.status_code == 304 and revalidated.content == b""
        other_size = client.get("/map.png", params={**VIEW, "width": "500"})
        svg = client.get("/map.svg", params=VIEW)
        assert store.hits == 1 and len(store) == 3
        assert len({first.headers["etag"], other_size.headers["etag"], svg.headers["etag"]}) == 3
        assert svg.headers["content-type"].startswith("image/svg+xml")


def test_a_write_draws_the_view_again(map_data_dir: Path, tmp_path: Path) -> None:
    with map_client(copy_data_dir(map_data_dir, tmp_path), seed=True) as client:
        store: ResponseStore = client.app.state.image_cache  # type: ignore[attr-defined]
        before = client.get("/map.png", params=VIEW)
        write_events(client.app.state.events, [make_event(9001, id="image-cache-0001")])  # type: ignore[attr-defined]
        after = client.get("/map.png", params=VIEW)
        assert store.hits == 0
        assert after.headers["etag"] != before.headers["etag"]
        assert _drawn(after.headers["x-alt-text"]) == _drawn(before.headers["x-alt-text"]) + 1
        stale = client.get("/map.png", params=VIEW, headers={"if-none-match": before.headers["etag"]})
        assert stale.status_code == 200


def test_no_image_cache_when_its_budget_is_zero(map_data_dir: Path, tmp_path: Path) -> None:
    with map_client(copy_data_dir(map_data_dir, tmp_path), {"map": {"image_cache_bytes": 0}}) as client:
        assert client.app.state.image_cache is None  # type: ignore[attr-defined]
        assert client.get("/map.png", params=VIEW).status_code == 200
