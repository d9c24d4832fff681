"""Helpers and fixtures of the map tests (imported by conftest.py).

Every server here is the real service: ``create_app`` over a copy of the built data folder, with its own SQLite
event store, run by uvicorn (lifespan on) in a thread. Test events go into that store through the event domain
(:class:`app.events.service.EventService` with an editor key; retractions with an admin key), never through a
stand-in endpoint. A second small server on another port plays the tile server and a journalist's page that
frames the embed. The browser is headless Chromium driven by Playwright.
"""

from __future__ import annotations

import html
import io
import os
import random
import shutil
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import geopandas as gpd
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, Response
from testsupport import make_settings, require

from app.events.auth import create_key
from app.events.model import parse_event_in
from app.events.service import EventService, open_service
from app.layerstore import LayerStore
from app.main import create_app
from app.settings import Settings

PROJECT_ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = PROJECT_ROOT / "test-artifacts" / "map"
CHROMIUM = Path(os.environ.get("CZMAP_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]
BULK_COUNT = 100_000

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
VERIFICATION_CYCLE = ["reported", "corroborated", "verified", "disputed", "retracted"]
#: Events whose location is only the country (6) or international waters/airspace (7): listed, not drawn.
UNMAPPED = {"ev-country": (6, 47.55, 40.25, date(2020, 10, 12)), "ev-airspace": (7, 46.05, 39.45, date(2020, 10, 14))}


# -- test events (records in the form the event domain accepts: EventIn fields) -------------------------------
def _event(event_id: str, lon: float, lat: float, day: date, *, place: str, **extra: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "id": event_id,
        "date_start": day.isoformat(),
        "date_end": day.isoformat(),
        "date_precision": 1,
        "lon": lon,
        "lat": lat,
        "place_name": place,
        "location_precision": 1,
        "event_type": "Battles",
        "sub_event_type": "Armed clash",
        "actors": ["Armed forces of Azerbaijan", "Armed forces of Armenia"],
        "claimed_by": "Ministry of Defence",
        "verification": "reported",
        "fatalities_best": 2,
        "fatalities_low": 1,
        "fatalities_high": 4,
        "sources": [
            {
                "publisher": "Example Wire",
                "title": f"Report on {place}",
                "published": day.isoformat(),
                "url": f"https://example.org/report/{event_id}",
            }
        ],
        "notes": None,
    }
    record.update(extra)
    return record


def district_points(data_dir: Path, district: str, count: int, seed: int) -> list[tuple[float, float]]:
    """``count`` random points inside a built district polygon."""
    districts = gpd.read_file(data_dir / "layers" / "seven-districts.gpkg", layer="seven-districts")
    selected = districts.loc[districts["id"] == district]
    # Stay well inside: the alt text counts events within the polygon, not on its edge.
    inner = selected.to_crs(32638).buffer(-2000).to_crs(4326)
    points = inner.sample_points(count, rng=seed).iloc[0]
    return [(p.x, p.y) for p in points.geoms] if count > 1 else [(points.x, points.y)]


def make_events(data_dir: Path) -> list[dict[str, Any]]:
    """Events of the first week of October in three districts, later events, events carrying payloads, and two
    events without a mappable location (country only, airspace).

    ``verification`` is what the event ends up as: ``retracted`` ones are created as reported, then retracted.
    """
    records = []
    n = 0
    for d, (district, count) in enumerate(DISTRICT_EVENTS.items()):
        for lon, lat in district_points(data_dir, district, count, seed=d):
            day = FIRST_WEEK[0] + timedelta(days=n % 7)
            records.append(
                _event(
                    f"ev-{n}",
                    lon,
                    lat,
                    day,
                    place=f"Village {n} ({district})",
                    verification=VERIFICATION_CYCLE[n % 5],
                    location_precision=1 + n % 3,
                )
            )
            n += 1
    for lon, lat in district_points(data_dir, "AZ-ZAN", 4, seed=9):
        records.append(
            _event(
                f"ev-{n}",
                lon,
                lat,
                date(2020, 10, 25),
                place=f"Village {n}",
                event_type="Explosions/Remote violence",
                sub_event_type="Air/drone strike",
            )
        )
        n += 1
    for i, payload in enumerate(PAYLOADS):
        lon, lat = 46.2 + 0.3 * i, 39.2 + 0.25 * i
        records.append(
            _event(
                f"xss-{i}",
                lon,
                lat,
                date(2020, 10, 20),
                place=payload,
                notes=payload,
                actors=[payload],
                claimed_by=payload,
                sources=[{"publisher": payload, "title": payload}],
            )
        )
    for event_id, (precision, lon, lat, day) in UNMAPPED.items():
        records.append(
            _event(
                event_id,
                lon,
                lat,
                day,
                place="Azerbaijan" if precision == 6 else "Airspace over the Araks",
                location_precision=precision,
                event_type="Explosions/Remote violence",
                sub_event_type="Air/drone strike",
            )
        )
    return records


def drawable(records: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The records the map draws as points (location known better than the country)."""
    return [r for r in records if r.get("location_precision", 1) < 6]


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
            location_precision=rng.choice([1, 2, 3]),
            sources=[{"publisher": "Bulk Wire", "title": f"Report {i}"}],
        )
        for i in range(count)
    ]


def write_events(service: EventService, records: Sequence[dict[str, Any]], batch: int = 10_000) -> None:
    """Write ``records`` through the event domain: an editor key creates them, an admin key retracts some."""
    editor = service.authenticate(f"Bearer {create_key(service.store, 'editor', 'map tests (editor)')}")
    created = [parse_event_in({**r, "verification": _writable(r["verification"])}) for r in records]
    for start in range(0, len(created), batch):
        result = service.write_batch(editor, created[start : start + batch], action="create")
        assert not result.existing, result.existing
    retracted = [r["id"] for r in records if r["verification"] == "retracted"]
    if retracted:
        admin = service.authenticate(f"Bearer {create_key(service.store, 'admin', 'map tests (admin)')}")
        for event_id in retracted:
            service.retract(admin, event_id, "test retraction")


def _writable(verification: str) -> str:
    return "reported" if verification == "retracted" else verification


# -- servers -----------------------------------------------------------------------------------------------------
@dataclass
class LiveServer:
    """A uvicorn server running in a thread, and the app it serves."""

    url: str
    app: FastAPI
    server: uvicorn.Server
    thread: threading.Thread

    @property
    def events(self) -> EventService:
        """The app's event service (the store its lifespan opened)."""
        service: EventService = self.app.state.events
        return service


def free_port() -> int:
    """A TCP port free on 127.0.0.1 right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve(app: FastAPI, port: int | None = None) -> Iterator[LiveServer]:
    """Run ``app`` with uvicorn (lifespan on) in a thread until the block ends."""
    port = port or free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start (see the log above)")
        time.sleep(0.05)
    try:
        yield LiveServer(f"http://127.0.0.1:{port}", app, server, thread)
    finally:
        server.should_exit = True
        thread.join(timeout=15)


def copy_data_dir(built: Path, target: Path) -> Path:
    """A data folder of its own (the built layers copied, no event store yet)."""
    shutil.copytree(built / "layers", target / "layers")
    return target


def store_settings(data_dir: Path, *, seed: bool = False, **sections: Any) -> Settings:
    """Settings over ``data_dir`` with its SQLite store named explicitly (no CZMAP_* variable of the shell leaks in)."""
    return make_settings(data_dir, database_url=f"sqlite:///{data_dir / 'events.sqlite'}", seed=seed, **sections)


def open_store_service(data_dir: Path) -> EventService:
    """The event service of ``data_dir``'s store, with zones from its built layers (close its store after use)."""
    return open_service(store_settings(data_dir), LayerStore.open(data_dir).zones)


@contextmanager
def map_server(data_dir: Path, tiles_url: str | None, *, seed: bool = False) -> Iterator[LiveServer]:
    """``create_app`` over ``data_dir`` with its SQLite store (seeded with the curated events when ``seed``)."""
    tiles = {"url": f"{tiles_url}/tiles/{{z}}/{{x}}/{{y}}.png", "attribution": "Test tiles"} if tiles_url else {}
    with serve(create_app(store_settings(data_dir, seed=seed, basemap=tiles))) as live:  # {}: the default tiles
        yield live


@contextmanager
def map_client(data_dir: Path, sections: dict[str, Any] | None = None, *, seed: bool = False) -> Iterator[Any]:
    """A TestClient of ``create_app`` over ``data_dir`` (lifespan run), its SQLite store seeded when ``seed``.

    ``sections`` are settings sections, e.g. ``{"service": {"public_url": ...}}``.
    """
    from fastapi.testclient import TestClient

    sections = {"basemap": {}, **(sections or {})}  # the default tile server, unless told otherwise
    with TestClient(create_app(store_settings(data_dir, seed=seed, **sections))) as client:
        yield client


def tile_png() -> bytes:
    """A plain 256 px tile."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (256, 256), (200, 220, 200)).save(buffer, format="PNG")
    return buffer.getvalue()


def helper_app() -> FastAPI:
    """The local tile server, and a journalist's page on another origin that frames an embed in 320x240."""
    app = FastAPI()
    tile = tile_png()

    @app.get("/tiles/{z}/{x}/{y}.png")
    def tiles(z: int, x: int, y: int) -> Response:
        return Response(tile, media_type="image/png")

    @app.get("/test-host")
    def host(src: str) -> HTMLResponse:
        frame = f'<iframe id="f" src="{html.escape(src)}" width="320" height="240" style="border:0"></iframe>'
        head = '<head><link rel="icon" href="data:,"></head>'
        return HTMLResponse(f'<!DOCTYPE html><html>{head}<body style="margin:0">{frame}</body></html>')

    return app


# -- fixtures ----------------------------------------------------------------------------------------------------
@pytest.fixture(scope="session")
def map_data_dir(built_data_dir: Path) -> Path:
    """The session's built data folder (read-only here: servers get copies)."""
    return built_data_dir


@pytest.fixture(scope="session")
def events_fixture(map_data_dir: Path) -> list[dict[str, Any]]:
    """The test events, as written to the store."""
    return make_events(map_data_dir)


@pytest.fixture(scope="session")
def helper_server() -> Iterator[LiveServer]:
    """Tiles and the framing page, on 127.0.0.1 too."""
    with serve(helper_app()) as live:
        yield live


@pytest.fixture(scope="module")
def live_server(
    map_data_dir: Path,
    events_fixture: list[dict[str, Any]],
    helper_server: LiveServer,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[LiveServer]:
    """The real app with the test events in its own store (no seed events)."""
    data_dir = copy_data_dir(map_data_dir, tmp_path_factory.mktemp("map-data"))
    with map_server(data_dir, helper_server.url) as live:
        write_events(live.events, events_fixture)
        yield live


@pytest.fixture(scope="module")
def seeded_server(
    map_data_dir: Path, helper_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """A fresh app on a fresh store: seeded with the curated 2020 events on start, as in production."""
    data_dir = copy_data_dir(map_data_dir, tmp_path_factory.mktemp("map-seeded"))
    with map_server(data_dir, helper_server.url, seed=True) as live:
        yield live


@pytest.fixture(scope="session")
def bulk_store(map_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite store holding 100,000 events written through the domain (built once, copied per server)."""
    data_dir = copy_data_dir(map_data_dir, tmp_path_factory.mktemp("bulk-template"))
    service = open_store_service(data_dir)
    try:
        write_events(service, bulk_events(BULK_COUNT))
    finally:
        service.store.close()
    return data_dir / "events.sqlite"


@pytest.fixture(scope="session")
def big_server(
    map_data_dir: Path, bulk_store: Path, helper_server: LiveServer, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LiveServer]:
    """The real app over a store of 100,000 events."""
    data_dir = copy_data_dir(map_data_dir, tmp_path_factory.mktemp("map-big"))
    shutil.copyfile(bulk_store, data_dir / "events.sqlite")
    with map_server(data_dir, helper_server.url) as live:
        yield live


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Headless Chromium (skipped locally, required in CI)."""
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


def watch_page(context: Any) -> PageWatch:
    """A new page of ``context`` whose errors and requests are recorded."""
    page = context.new_page()
    watch = PageWatch(page, [], [])
    page.on("pageerror", lambda exc: watch.errors.append(f"pageerror: {exc}"))
    page.on("console", lambda msg: watch.errors.append(f"console: {msg.text}") if msg.type == "error" else None)
    page.on("request", lambda request: watch.requests.append(request.url))
    return watch


#: True once the map has drawn the events of its first load.
LOADED = "() => document.querySelector('.folium-map').hasAttribute('data-events-shown')"


def open_map(watch: PageWatch, url: str) -> Any:
    """Open ``url`` in the watched page and wait until the map has drawn its events."""
    page = watch.page
    page.goto(url)
    try:
        page.wait_for_function(LOADED, timeout=20_000)
    except Exception as exc:  # report what the page said, not only the timeout
        raise AssertionError(f"map did not load: {watch.errors}") from exc
    return page


@pytest.fixture
def watched(browser: Any) -> Iterator[PageWatch]:
    """A watched page in a 1280x800 window."""
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    yield watch_page(context)
    context.close()


@pytest.fixture
def artifacts() -> Path:
    """Where screenshots go (git-ignored)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
