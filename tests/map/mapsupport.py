"""Helpers and fixtures of the map tests (imported by conftest.py).

A real uvicorn server with the map router, an OGC-style items endpoint over the built layers and a
GeoJSON events fixture (with injection payloads), and headless Chromium driven by Playwright.

Until the OGC API service is merged the items endpoint here is a stand-in; switch to ``create_app`` then.
"""

from __future__ import annotations

import io
import json
import os
import random
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles

from app.routers.map import install_error_handlers, router
from app.webmap.settings import MapSettings
from app.webmap.sources import BuiltLayers, GeoJSONEvents, MapData
from geodata.build import read_manifest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
STATIC_DIR = PROJECT_ROOT / "app" / "static"
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "map"
REQUIRE_ALL = os.environ.get("CZMAP_REQUIRE_ALL") == "1" or os.environ.get("CI") == "true"
CHROMIUM = Path(os.environ.get("CZMAP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]

#: Event fields that would run script if they reached the DOM as HTML.
PAYLOADS = [
    "<script>window.__pwned = 1</script>",
    '"><img src=x onerror="window.__pwned = 2; document.body.appendChild(document.createElement(\'pwned\'))">',
    "`${window.__pwned = 3}`",
    "</script><script>window.__pwned = 4</script>",
]
#: How many fixture events fall in each district: the alt text must name the two largest.
DISTRICT_EVENTS = {"AZ-CAB": 6, "AZ-FUZ": 5, "AZ-AGM": 3}
JS_URL = "javascript:window.__pwned=9"
FIRST_WEEK = (date(2020, 10, 1), date(2020, 10, 7))


def require(available: bool, what: str) -> None:
    """Skip when ``what`` is missing, or fail when CI requires every component."""
    if available:
        return
    if REQUIRE_ALL:
        pytest.fail(f"required component missing: {what}")
    pytest.skip(f"{what} not available")


def _event(
    event_id: str, lon: float, lat: float, day: date, *, place: str, district: str, **extra: Any
) -> dict[str, Any]:
    props = {
        "id": event_id,
        "date_start": day.isoformat(),
        "date_end": day.isoformat(),
        "date_precision": "day",
        "place_name": place,
        "location_precision": 1,
        "zones": [district],
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actors": ["Armed forces of Azerbaijan", "Armed forces of Armenia"],
        "claimed_by": ["Ministry of Defence"],
        "verification": "reported",
        "fatalities_best": 2,
        "fatalities_low": 1,
        "fatalities_high": 4,
        "sources": [
            {
                "publisher": "Example Wire",
                "title": "Report",
                "published": day.isoformat(),
                "url": "https://example.org/report",
            }
        ],
        "notes": "",
    }
    props.update(extra)
    return {
        "type": "Feature",
        "id": event_id,
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": props,
    }


def district_points(data_dir: Path, district: str, count: int, seed: int) -> list[tuple[float, float]]:
    """``count`` random points inside a built district polygon."""
    districts = gpd.read_file(data_dir / "layers" / "seven-districts.gpkg", layer="seven-districts")
    selected = districts.loc[districts["id"] == district]
    # Stay well inside: the alt text counts events within the polygon, not on its edge.
    inner = selected.to_crs(32638).buffer(-2000).to_crs(4326)
    points = inner.sample_points(count, rng=seed).iloc[0]
    return [(p.x, p.y) for p in points.geoms] if count > 1 else [(points.x, points.y)]


def make_events(data_dir: Path) -> list[dict[str, Any]]:
    """Events of the first week of October in three districts, later events, and events carrying payloads."""
    features = []
    n = 0
    for d, (district, count) in enumerate(DISTRICT_EVENTS.items()):
        for lon, lat in district_points(data_dir, district, count, seed=d):
            day = FIRST_WEEK[0] + timedelta(days=n % 7)
            verification = ["reported", "corroborated", "verified", "disputed", "retracted"][n % 5]
            features.append(
                _event(
                    f"ev-{n}",
                    lon,
                    lat,
                    day,
                    place=f"Village {n}",
                    district=district,
                    verification=verification,
                    location_precision=1 + n % 3,
                )
            )
            n += 1
    for lon, lat in district_points(data_dir, "AZ-ZAN", 4, seed=9):
        features.append(
            _event(
                f"ev-{n}",
                lon,
                lat,
                date(2020, 10, 25),
                place=f"Village {n}",
                district="AZ-ZAN",
                event_type="Explosions/Remote violence",
            )
        )
        n += 1
    for i, payload in enumerate(PAYLOADS):
        lon, lat = 46.2 + 0.3 * i, 39.2 + 0.25 * i
        features.append(
            _event(
                f"xss-{i}",
                lon,
                lat,
                date(2020, 10, 20),
                place=payload,
                district=payload,
                event_type=payload,
                notes=payload,
                actors=[payload],
                claimed_by=[payload],
                sources=[{"publisher": payload, "title": payload, "url": JS_URL}],
            )
        )
    return features


def bulk_events(count: int, seed: int = 1) -> list[dict[str, Any]]:
    """``count`` events scattered over the war zone (for the 100,000-event check)."""
    rng = random.Random(seed)
    start = date(2020, 9, 27)
    return [
        _event(
            f"bulk-{i}",
            rng.uniform(45.9, 47.5),
            rng.uniform(38.9, 40.3),
            start + timedelta(days=rng.randrange(45)),
            place=f"Place {i}",
            district="AZ-FUZ",
            location_precision=rng.choice([1, 2, 3]),
        )
        for i in range(count)
    ]


class ItemsStore:
    """A stand-in for the OGC API items endpoint: built layers (per display zoom) and in-memory events."""

    def __init__(self, data_dir: Path, manifest: dict, events: list[dict[str, Any]]) -> None:
        self.data_dir = data_dir
        self.manifest = manifest
        self.events = events
        self._cache: dict[tuple[str, str | None], list[dict]] = {}

    def layer(self, layer_id: str, zoom: str | None) -> list[dict]:
        key = (layer_id, zoom)
        if key not in self._cache:
            meta = self.manifest["layers"][layer_id]
            table = meta.get("variants", {}).get(zoom, {}).get("layer", layer_id) if zoom else layer_id
            frame = gpd.read_file(self.data_dir / "layers" / meta["files"]["gpkg"], layer=table)
            self._cache[key] = json.loads(frame.to_json(drop_id=True))["features"]
        return self._cache[key]

    def select(self, collection: str, params: dict[str, str]) -> list[dict]:
        features = self.events if collection == "events" else self.layer(collection, params.get("zoom"))
        start, end = _interval(params.get("datetime"))
        if start:
            features = [f for f in features if _overlaps(f["properties"], start, end)]
        if params.get("bbox") and collection == "events":
            w, s, e, n = (float(v) for v in params["bbox"].split(","))
            features = [
                f
                for f in features
                if w <= f["geometry"]["coordinates"][0] <= e and s <= f["geometry"]["coordinates"][1] <= n
            ]
        return features


def _interval(raw: str | None) -> tuple[str | None, str | None]:
    if not raw:
        return None, None
    parts = raw.split("/")
    return parts[0], parts[-1]


def _overlaps(props: dict, start: str, end: str | None) -> bool:
    first = props.get("date_start") or props.get("valid_from") or "0000"
    last = props.get("date_end") or props.get("valid_to") or "9999"
    return str(first) <= str(end) and str(last) >= str(start)


def tile_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def make_app(data_dir: Path, events: list[dict[str, Any]], settings: MapSettings) -> FastAPI:
    """The map router plus the stand-in items endpoint, static files and a local tile server."""
    app = FastAPI()
    manifest = read_manifest(data_dir)
    app.state.manifest = manifest
    app.state.map_settings = settings
    app.state.map_data = MapData(BuiltLayers(data_dir, manifest), GeoJSONEvents(events))
    store = ItemsStore(data_dir, manifest, events)
    tile = tile_png()
    install_error_handlers(app)
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")

    @app.get("/collections/{collection}/items")
    def items(collection: str, request: Request) -> Response:
        if collection != "events" and collection not in manifest["layers"]:
            return JSONResponse({"code": "NotFound", "description": collection}, status_code=404)
        params = dict(request.query_params)
        selected = store.select(collection, params)
        limit, offset = int(params.get("limit", 100)), int(params.get("offset", 0))
        body: dict[str, Any] = {
            "type": "FeatureCollection",
            "features": selected[offset : offset + limit],
            "numberMatched": len(selected),
            "links": [],
        }
        if offset + limit < len(selected):
            next_params = {**params, "offset": str(offset + limit)}
            query = "&".join(f"{k}={v}" for k, v in next_params.items())
            body["links"].append({"rel": "next", "href": f"{request.url.path}?{query}"})
        body["numberReturned"] = len(body["features"])
        return Response(json.dumps(body), media_type="application/geo+json")

    @app.get("/test-host")
    def host(request: Request) -> Response:
        # A journalist's page on another origin (open it as http://localhost:<port>) framing the embed.
        src = f"http://127.0.0.1:{request.url.port}/embed?title=Small&dark=true"
        html = (
            f'<!DOCTYPE html><html><body style="margin:0"><iframe id="f" src="{src}" width="320" height="240"></iframe>'
        )
        return Response(html, media_type="text/html")

    @app.get("/tiles/{z}/{x}/{y}.png")
    def tiles(z: int, x: int, y: int) -> Response:
        return Response(tile, media_type="image/png")

    return app


@dataclass
class LiveServer:
    """A uvicorn server running in a thread."""

    url: str
    server: uvicorn.Server
    thread: threading.Thread


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def serve(app_factory: Any) -> Iterator[LiveServer]:
    port = free_port()
    app = app_factory(f"http://127.0.0.1:{port}")
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", server, thread)
    server.should_exit = True
    thread.join(timeout=10)


def local_settings(url: str, **overrides: Any) -> MapSettings:
    return MapSettings(tile_url=f"{url}/tiles/{{z}}/{{x}}/{{y}}.png", tile_attribution="Test tiles", **overrides)


@pytest.fixture(scope="session")
def map_data_dir(built_data_dir: Path) -> Path:
    return built_data_dir


@pytest.fixture(scope="session")
def events_fixture(map_data_dir: Path) -> list[dict[str, Any]]:
    return make_events(map_data_dir)


@pytest.fixture(scope="session")
def live_server(map_data_dir: Path, events_fixture: list[dict[str, Any]]) -> Iterator[LiveServer]:
    yield from serve(lambda url: make_app(map_data_dir, events_fixture, local_settings(url)))


@pytest.fixture(scope="session")
def big_server(map_data_dir: Path) -> Iterator[LiveServer]:
    events = bulk_events(100_000)
    yield from serve(lambda url: make_app(map_data_dir, events, local_settings(url)))


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require(False, "the playwright Python package")
    require(CHROMIUM.exists() or shutil.which("chromium") is not None, f"Chromium at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@dataclass
class PageWatch:
    """A browser page with everything it reported: script errors, console errors and requested URLs."""

    page: Any
    errors: list[str]
    requests: list[str]


@pytest.fixture
def watched(browser: Any) -> Iterator[PageWatch]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    page = context.new_page()
    watch = PageWatch(page, [], [])
    page.on("pageerror", lambda exc: watch.errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: watch.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("request", lambda request: watch.requests.append(request.url))
    yield watch
    context.close()


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
