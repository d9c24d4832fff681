"""The application factory; the module-level ``app`` exists only for ``uvicorn app.main:app``.

The lifespan opens the layer store once (every built table, and the one zone index) and then each collection
provider. What the routes read lives on ``app.state``: ``settings``, ``layers`` (the :class:`LayerStore`, or
None without a build), ``collections``, and, with the event store open, ``events``, ``map_data`` and
``event_counter``, and ``workers`` (the :class:`~app.offload.WorkerPool` that draws static maps and classifies
points in other processes). Six caches are there from the start (None when their budget is 0): ``image_cache``
(rendered /map.png images, see :func:`app.routers.map._image`), ``page_cache`` (the HTML of /map and /embed, see
:func:`app.routers.map._page`), ``event_page_cache`` (pages of a mutable collection by its data version, see
:func:`app.routers.items.get_features`), ``summary_cache`` (zone summaries, see
:func:`app.routers.analysis.summary_route`), ``tile_cache`` (encoded vector tiles, see :mod:`app.routers.tiles`)
and ``response_cache`` (the :class:`~app.http.response_cache.ResponseStore` of the immutable layer responses).
``vendor_problem`` says which front-end files of the map are missing (None when all are installed; see
:mod:`app.webmap.assets`).

To add routes, append a router to :data:`ROUTERS`; to serve another kind of collection, append a provider to
:data:`COLLECTION_PROVIDERS` (a function of the :class:`~app.startup.Startup` returning a context manager that
yields collections, so a store can open connections at start-up and close them at shutdown).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from brotli_asgi import BrotliMiddleware
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp

from app import __version__
from app.collections.base import Collection
from app.collections.events import EventsCollection, event_collections
from app.collections.layers import layer_collections
from app.collections.registry import CollectionRegistry
from app.errors import StoreUnavailable
from app.events.adapters import StoreEventCounter, StoreEventSource
from app.http.errors import document_errors, install_error_handlers
from app.http.headers import SecurityHeadersMiddleware
from app.http.limits import LimitsMiddleware
from app.http.logging import RequestIdMiddleware
from app.http.protocol import ProtocolMiddleware
from app.http.response_cache import ResponseCacheMiddleware, ResponseStore
from app.http.static import StaticAssets
from app.layerstore import LayerStore
from app.memory import limit_malloc_arenas, startup_objects_frozen
from app.offload import WorkerPool
from app.ogc.apidoc import describe_service
from app.ogc.openapi import to_openapi_30
from app.responses import JSONResponse
from app.routers import analysis, collections, events, health, items, landing, tiles
from app.routers import map as map_pages
from app.settings import Settings, load_settings
from app.startup import Startup
from app.webmap.assets import STATIC_DIR, vendor_problem
from app.webmap.sources import GeoJSONEvents, MapData, StoreZones
from geodata.manifest import manifest_path

CollectionProvider = Callable[[Startup], AbstractContextManager[Sequence[Collection]]]
logger = logging.getLogger(__name__)


@contextmanager
def built_layers(startup: Startup) -> Iterator[Sequence[Collection]]:
    """The built zone layers, served from the layer store."""
    if startup.layers is None:
        raise StoreUnavailable(f"no built layers in {startup.settings.data_dir}: run `czmap geodata build` first")
    yield layer_collections(startup.layers)


#: Routers included by :func:`create_app`, in order. Order is precedence: Starlette answers with the first route
#: whose path matches, so ``events`` must come before ``items``: ``GET /collections/events/items/{featureId}`` is
#: then served by :func:`app.routers.events.get_event` (revision ETags, history link), never by the generic
#: :func:`app.routers.items.get_feature` (tests/api/test_events_read.py checks it).
ROUTERS: list[APIRouter] = [
    landing.router,
    collections.router,
    events.router,
    items.router,
    map_pages.router,
    analysis.router,
    tiles.router,
    health.router,
]
#: Sources of collections, opened in the lifespan in this order.
COLLECTION_PROVIDERS: list[CollectionProvider] = [built_layers, event_collections]


def create_app(
    settings: Settings | None = None,
    providers: Sequence[CollectionProvider] | None = None,
    static_dir: Path = STATIC_DIR,
    prestart_workers: bool = False,
) -> FastAPI:
    """A new application; the layers and collections are loaded when its lifespan starts, not here.

    ``static_dir`` is the folder served under /static (the package's ``app/static``, with the vendored
    front-end files the map pages need). ``prestart_workers`` starts the worker processes (:mod:`app.offload`)
    with the lifespan instead of on the first image or classification.
    """
    settings = settings or load_settings()
    chosen = list(COLLECTION_PROVIDERS if providers is None else providers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        limit_malloc_arenas(settings.service.malloc_arenas)  # before the thread pool allocates (app.memory)
        startup = Startup(settings, _open_layers(settings))
        with ExitStack() as stack:
            registry = CollectionRegistry()
            for provider in chosen:
                registry = registry.register(*stack.enter_context(provider(startup)))
            app.state.layers = startup.layers
            app.state.collections = registry
            _attach_events(app, startup, registry)
            if startup.layers is not None:
                with_events = getattr(app.state, "events", None) is not None
                workers = WorkerPool(settings, startup.layers, app.state.map_data, with_events)
                stack.callback(workers.close)
                if prestart_workers:
                    workers.prestart()
                app.state.workers = workers
            stack.enter_context(startup_objects_frozen())  # full collections no longer walk the layers (app.memory)
            yield

    app = FastAPI(
        title=settings.service.title,
        description=settings.service.description,
        version=__version__,
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        default_response_class=JSONResponse,
    )
    app.state.settings = settings
    app.state.vendor_problem = _check_vendor(settings, static_dir)
    image_cache = settings.map.image_cache_bytes
    app.state.image_cache = ResponseStore(image_cache) if image_cache else None  # /map.png by view + data version
    event_pages = settings.events.page_cache_bytes
    app.state.event_page_cache = ResponseStore(event_pages) if event_pages else None  # by the store's data version
    pages = settings.map.page_cache_bytes
    app.state.page_cache = ResponseStore(pages) if pages else None  # /map and /embed HTML by view + address
    summaries = settings.analysis.summary_cache_bytes
    app.state.summary_cache = ResponseStore(summaries) if summaries else None  # zone summaries by data version
    tile_cache = settings.tiles.cache_bytes
    app.state.tile_cache = ResponseStore(tile_cache) if tile_cache else None  # encoded tiles by data version
    install_error_handlers(app)  # every domain's errors, one body shape
    for router in ROUTERS:
        app.include_router(router)
    app.state.static_dir = static_dir  # the response cache keeps its files by size and time (app.http.response_cache)
    app.mount("/static", StaticAssets(directory=static_dir, cache_control=settings.service.cache_header), name="static")
    # outermost first: request id -> response cache -> (error) -> security headers -> CORS -> protocol -> limits
    # -> compression -> routes; the last added is the outermost, the two first are put around the stack below
    app.add_middleware(BrotliMiddleware, minimum_size=settings.service.compress_min_size, gzip_fallback=True)
    app.add_middleware(LimitsMiddleware, settings=settings.service)
    app.add_middleware(ProtocolMiddleware, router=app.router)  # HEAD, OPTIONS, Allow on 405, Vary: Accept
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.service.cors_origins,
        # writes authenticate with a Bearer key, never a cookie: an editing tool on another origin may use them
        allow_methods=["GET", "HEAD", "OPTIONS", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=["*"],
        expose_headers=[
            "ETag",
            "Link",
            "Location",
            "Content-Crs",
            "Content-Disposition",
            "X-Alt-Text",
            "Retry-After",
            "X-Request-ID",
        ],
    )
    app.add_middleware(SecurityHeadersMiddleware, settings=settings)
    _openapi_30(app)
    _outer_layers(app, settings.service.response_cache_bytes)
    return app


def _outer_layers(app: FastAPI, max_bytes: int) -> None:
    """Put the response cache, then the request id, around the whole middleware stack.

    Starlette always puts its error middleware first, so the cache wraps the stack it builds: a hit pays for
    nothing else (bench/RESULTS.md), and is not rate-limited (it costs less than the limiter). CORS and security
    headers are kept with the response, the ``Origin`` in the cache key; the request id is outside the cache, so
    every answer, a hit too, carries its own.
    """
    store = app.state.response_cache = ResponseStore(max_bytes) if max_bytes else None
    build = app.build_middleware_stack

    def build_middleware_stack() -> ASGIApp:
        stack = build()
        return RequestIdMiddleware(ResponseCacheMiddleware(stack, store) if store is not None else stack)

    app.build_middleware_stack = build_middleware_stack  # type: ignore[method-assign]


def _check_vendor(settings: Settings, static_dir: Path) -> str | None:
    """Warn at start-up when the map's front-end files are missing (the map pages then answer 503 saying so).

    Only when this service serves them: with ``map.static_url`` pointing elsewhere, that server has them.
    """
    problem = vendor_problem(static_dir) if settings.map.static_url == "/static" else None
    if problem:
        logger.warning(problem)
    return problem


def _open_layers(settings: Settings) -> LayerStore | None:
    """The layer store of the data folder; None when there is no build (apps over custom providers in tests)."""
    return LayerStore.open(settings.data_dir) if manifest_path(settings.data_dir).exists() else None


def _attach_events(app: FastAPI, startup: Startup, registry: CollectionRegistry) -> None:
    """What the map and the summaries read: zones from the layer store and, when it is open, the event store."""
    if startup.layers is None:
        return
    store = next((c for c in registry if isinstance(c, EventsCollection)), None)
    markers = startup.settings.map.image_markers
    events = StoreEventSource(store.service, markers) if store is not None else GeoJSONEvents([])
    app.state.map_data = MapData(zones=StoreZones(startup.layers), events=events)
    if store is not None:  # the event store is open: writes, the static map and the zone summary use it
        app.state.events = store.service
        app.state.event_counter = StoreEventCounter(store.service)


def _openapi_30(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the OpenAPI 3.0 form of the generated document, completed.

    Error bodies (:func:`document_errors`), formats, the Bearer scheme, bodies and each loaded collection's items
    path (:func:`describe_service`); the document is kept once the collections are loaded.
    """
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is not None:
            return app.openapi_schema
        collections = getattr(app.state, "collections", None)
        layers = getattr(app.state, "layers", None)
        map_layers = list(layers.manifest.layers) if layers is not None else []
        app.openapi_schema = None  # FastAPI's generate() caches its own result here
        document = to_openapi_30(describe_service(document_errors(generate()), collections or (), map_layers))
        app.openapi_schema = document if collections is not None else None
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def __getattr__(name: str) -> Any:
    """Build the module-level ``app`` on first access (for ``uvicorn app.main:app``), not at import."""
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
