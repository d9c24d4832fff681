"""The response cache of immutable layer features (app/http/response_cache.py), through real apps."""

from __future__ import annotations

import dataclasses
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
from fastapi.testclient import TestClient
from testsupport import make_settings

from app.collections.layers import LayerCollection
from app.collections.registry import CollectionRegistry
from app.http.response_cache import CachedResponse, ResponseStore
from app.main import create_app
from app.startup import Startup

ITEMS = "/collections/tiny/items"
CODINGS = {"identity": "identity", "gzip": "gzip", "br": "gzip, deflate, br"}


def _tiny_app(tmp_path: Path, cache_bytes: int, *collections: LayerCollection) -> TestClient:
    @contextmanager
    def provider(startup: Startup) -> Iterator[list[LayerCollection]]:
        yield list(collections)

    settings = make_settings(tmp_path, service={"cache_max_age": 60, "response_cache_bytes": cache_bytes})
    return TestClient(create_app(settings, providers=[provider]))


@pytest.fixture()
def cached(tmp_path: Path, make_tiny_collection: Callable[..., LayerCollection]) -> Iterator[TestClient]:
    mutable = make_tiny_collection("tiny-live", "Changes while served")
    mutable.mutable = True  # type: ignore[misc]  # this instance stands for a collection written while served
    with _tiny_app(tmp_path / "cached", 1_000_000, make_tiny_collection(), mutable) as client:
        yield client


@pytest.fixture()
def uncached(tmp_path: Path, make_tiny_collection: Callable[..., LayerCollection]) -> Iterator[TestClient]:
    with _tiny_app(tmp_path / "uncached", 0, make_tiny_collection()) as client:
        yield client


def _store(client: TestClient) -> ResponseStore:
    store = client.app.state.response_cache  # type: ignore[attr-defined]
    assert isinstance(store, ResponseStore)
    return store


def _without_timestamp(body: bytes) -> dict[str, Any]:
    doc = orjson.loads(body)
    doc.pop("timeStamp", None)
    return doc


@pytest.mark.parametrize("coding", CODINGS)
def test_a_repeat_is_served_from_the_cache_with_the_routes_etag_and_headers(
    cached: TestClient, uncached: TestClient, coding: str
) -> None:
    headers = {"accept-encoding": CODINGS[coding]}
    url = f"{ITEMS}?limit=5&crs=http://www.opengis.net/def/crs/EPSG/0/3857"
    first = cached.get(url, headers=headers)
    again = cached.get(url, headers=headers)
    route = uncached.get(url, headers=headers)
    assert (_store(cached).misses, _store(cached).hits) == (1, 1)
    assert again.status_code == route.status_code == 200
    assert again.content == first.content
    assert again.headers["etag"] == first.headers["etag"] == route.headers["etag"]
    assert again.headers.get("content-encoding") == route.headers.get("content-encoding")
    for name in ("content-type", "cache-control", "link", "content-crs", "vary"):
        assert again.headers.get(name) == route.headers.get(name), name
    assert _without_timestamp(again.content) == _without_timestamp(route.content)


def test_each_coding_has_its_own_entry_and_etag(cached: TestClient) -> None:
    tags = {
        coding: cached.get(ITEMS, headers={"accept-encoding": value}).headers["etag"]
        for coding, value in CODINGS.items()
    }
    assert len(set(tags.values())) == 3
    assert len(_store(cached)) == 3


def test_the_query_is_normalised_by_parameter_order(cached: TestClient) -> None:
    first = cached.get(f"{ITEMS}?limit=2&offset=1")
    reordered = cached.get(f"{ITEMS}?offset=1&limit=2")
    assert _store(cached).hits == 1
    assert reordered.headers["etag"] == first.headers["etag"]
    assert [f["id"] for f in reordered.json()["features"]] == ["b", "c"]


def test_a_different_query_or_host_is_a_different_entry(cached: TestClient) -> None:
    cached.get(f"{ITEMS}?limit=2")
    other_page = cached.get(f"{ITEMS}?limit=3")
    other_host = cached.get(f"{ITEMS}?limit=2", headers={"host": "maps.example.org"})
    assert _store(cached).hits == 0
    assert other_page.json()["numberReturned"] == 3
    assert all(link["href"].startswith("http://maps.example.org/") for link in other_host.json()["links"])


def test_accept_negotiates_html_into_its_own_entry(cached: TestClient) -> None:
    page = cached.get(ITEMS, headers={"accept": "application/geo+json"})
    html = cached.get(ITEMS, headers={"accept": "text/html"})
    assert page.headers["content-type"] == "application/geo+json"
    assert html.headers["content-type"].startswith("text/html")
    assert cached.get(ITEMS, headers={"accept": "text/html"}).headers["content-type"].startswith("text/html")
    assert _store(cached).hits == 1


def test_if_none_match_on_a_hit_answers_304_like_the_route(cached: TestClient, uncached: TestClient) -> None:
    etag = cached.get(f"{ITEMS}/a").headers["etag"]
    hit = cached.get(f"{ITEMS}/a", headers={"if-none-match": f'W/"other", {etag}'})
    route = uncached.get(f"{ITEMS}/a", headers={"if-none-match": etag})
    assert _store(cached).hits == 1
    assert hit.status_code == route.status_code == 304
    assert hit.content == route.content == b""
    for name in ("etag", "cache-control"):
        assert hit.headers[name] == route.headers[name], name
    stale = cached.get(f"{ITEMS}/a", headers={"if-none-match": '"stale"'})
    assert stale.status_code == 200 and stale.json()["id"] == "a"


def test_head_is_left_to_the_app(cached: TestClient, uncached: TestClient) -> None:
    cached.get(f"{ITEMS}?limit=4")
    head = cached.head(f"{ITEMS}?limit=4")
    assert head.status_code == uncached.head(f"{ITEMS}?limit=4").status_code
    assert _store(cached).hits == 0


def test_errors_and_mutable_collections_are_never_stored(cached: TestClient) -> None:
    for _ in range(2):
        assert cached.get(f"{ITEMS}?limit=0").status_code == 400
        assert cached.get(f"{ITEMS}/nope").status_code == 404
        assert cached.get("/collections/tiny-live/items").status_code == 200
        assert cached.get("/collections/nope/items").status_code == 404
    assert len(_store(cached)) == 0
    assert _store(cached).hits == 0


def test_a_new_layer_version_is_not_served_old_bytes(
    cached: TestClient, make_tiny_collection: Callable[..., LayerCollection]
) -> None:
    before = cached.get(ITEMS)
    rebuilt = make_tiny_collection()
    rebuilt.meta = dataclasses.replace(rebuilt.meta, version="fedcba9876543210", title="Rebuilt")
    cached.app.state.collections = CollectionRegistry([rebuilt])  # type: ignore[attr-defined]
    after = cached.get(ITEMS)
    assert _store(cached).hits == 0
    assert after.headers["etag"] != before.headers["etag"]
    assert [link["title"] for link in after.json()["links"] if link["rel"] == "collection"] == ["Rebuilt"]


def test_no_store_when_the_budget_is_zero(uncached: TestClient) -> None:
    assert uncached.app.state.response_cache is None  # type: ignore[attr-defined]
    assert uncached.get(ITEMS).status_code == 200


def _entry(size: int) -> CachedResponse:
    return CachedResponse(200, [], b"x" * size, '"e"', b"public")


def test_the_store_evicts_the_least_recently_used_within_its_budget() -> None:
    store = ResponseStore(max_bytes=1000)
    for name in "abcd":
        assert store.put((name,), _entry(250))
    assert store.get(("a",)) is not None  # a is now the most recently used
    store.put(("e",), _entry(250))
    assert store.get(("b",)) is None
    assert all(store.get((name,)) is not None for name in "acde")
    assert store.size == 1000


def test_the_store_refuses_an_entry_above_a_quarter_of_its_budget() -> None:
    store = ResponseStore(max_bytes=1000)
    assert not store.put(("big",), _entry(251))
    assert len(store) == 0 and store.size == 0


def test_cors_headers_are_kept_per_origin(cached: TestClient) -> None:
    plain = cached.get(ITEMS)
    first = cached.get(ITEMS, headers={"origin": "https://news.example"})
    again = cached.get(ITEMS, headers={"origin": "https://news.example"})
    assert "access-control-allow-origin" not in plain.headers
    assert again.headers["access-control-allow-origin"] == first.headers["access-control-allow-origin"] == "*"
    assert "ETag" in again.headers["access-control-expose-headers"]
    assert _store(cached).hits == 1


# -- the event store's pages (app/routers/items.py) and the static files -----------------------------------------
def test_event_pages_are_kept_until_a_write_makes_a_new_version(
    events_client: TestClient, api_keys: dict[str, str], event_feature: Callable[..., dict[str, Any]]
) -> None:
    pages = events_client.app.state.event_page_cache  # type: ignore[attr-defined]
    url = "/collections/events/items?limit=500&bbox=44,38,50,42"
    first = events_client.get(url)
    again = events_client.get(url)
    assert pages.hits == 1 and (again.content, again.headers["etag"]) == (first.content, first.headers["etag"])
    assert again.headers["cache-control"] == "no-cache"  # readers revalidate: a write is seen at once
    other_host = events_client.get(url, headers={"host": "maps.example.org"})
    assert "http://maps.example.org/collections/events" in other_host.text and pages.hits == 1
    written = events_client.post(
        "/collections/events/items", json=event_feature(7), headers={"Authorization": f"Bearer {api_keys['editor']}"}
    )
    assert written.status_code == 201, written.text
    after = events_client.get(url)
    assert after.headers["etag"] != first.headers["etag"] and pages.hits == 1
    ids = {feature["id"] for feature in after.json()["features"]}
    assert "api-test-0007" in ids and len(ids) == len(first.json()["features"]) + 1
    revalidated = events_client.get(url, headers={"If-None-Match": after.headers["etag"]})
    assert revalidated.status_code == 304


@pytest.fixture()
def static_app(tmp_path: Path) -> Iterator[tuple[TestClient, Path]]:
    from app.webmap.assets import STATIC_DIR

    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR / "webmap", static / "webmap")
    settings = make_settings(tmp_path, service={"cache_max_age": 600})
    with TestClient(create_app(settings, providers=[], static_dir=static)) as client:
        yield client, static


def test_static_files_are_kept_compressed_and_carry_a_cache_control(static_app: tuple[TestClient, Path]) -> None:
    client, static = static_app
    store = _store(client)
    br = {"accept-encoding": "gzip, deflate, br"}
    first = client.get("/static/webmap/czmap.js", headers=br)
    again = client.get("/static/webmap/czmap.js", headers=br)
    assert (first.status_code, first.headers["content-encoding"], first.headers["cache-control"]) == (
        200,
        "br",
        "public, max-age=600",
    )
    assert (store.hits, again.content) == (1, first.content)
    assert again.content == (static / "webmap" / "czmap.js").read_bytes()  # httpx decodes the brotli
    plain = client.get("/static/webmap/czmap.js", headers={"accept-encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.content == first.content and store.hits == 1
    not_modified = client.get("/static/webmap/czmap.js", headers=br | {"if-none-match": first.headers["etag"]})
    assert not_modified.status_code == 304 and store.hits == 2
    ranged = client.get("/static/webmap/czmap.js", headers={"range": "bytes=0-9"})
    assert (ranged.status_code, len(ranged.content)) == (206, 10) and store.hits == 2
    (static / "webmap" / "czmap.js").write_text("/* changed on disk */\n", encoding="utf-8")
    changed = client.get("/static/webmap/czmap.js", headers=br)
    assert changed.text == "/* changed on disk */\n" and store.hits == 2
    assert client.get("/static/webmap/nope.js").status_code == 404
    assert client.get("/static/../pyproject.toml").status_code == 404


def test_requests_that_miss_one_key_together_build_it_once() -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from starlette.responses import Response

    from app.http.response_cache import cached_or_built

    store, builds, start = ResponseStore(max_bytes=1_000_000), [], Barrier(8)

    def build() -> Response:
        builds.append(1)
        time.sleep(0.3)  # a page of a big store: every other reader arrives while it is built
        return Response(b"page", headers={"ETag": '"v2"'})

    def read(_: int) -> bytes:
        start.wait()
        return bytes(cached_or_built(store, ("items", "v2"), build).body)

    with ThreadPoolExecutor(8) as pool:
        bodies = list(pool.map(read, range(8)))
    assert bodies == [b"page"] * 8 and len(builds) == 1 and store.kept == 1


def test_a_failed_build_is_not_passed_on_to_the_requests_that_waited() -> None:
    from concurrent.futures import ThreadPoolExecutor
    from threading import Barrier

    from starlette.responses import Response

    from app.http.response_cache import cached_or_built

    store, start, calls = ResponseStore(max_bytes=1_000_000), Barrier(4), []

    def build() -> Response:
        calls.append(1)
        if len(calls) == 1:
            time.sleep(0.3)
            raise RuntimeError("the first build fails")  # e.g. the database went away for a moment
        return Response(b"page", headers={"ETag": '"v3"'})

    def read(_: int) -> bytes | str:
        start.wait()
        try:
            return bytes(cached_or_built(store, ("items", "v3"), build).body)
        except RuntimeError as exc:
            return str(exc)

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        answers = sorted(pool.map(read, range(4)), key=str)
    assert answers.count("the first build fails") == 1 and answers.count(b"page") == 3
    assert time.monotonic() - started < 2  # the waiters did not queue one behind another
