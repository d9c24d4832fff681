"""The application factory; the module-level ``app`` exists only for ``uvicorn app.main:app``.

To add routes, append a router to :data:`ROUTERS`; to serve another kind of collection, append a provider to
:data:`COLLECTION_PROVIDERS` (a function of the settings returning a context manager that yields collections,
so a store can open connections at start-up and close them at shutdown).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import AbstractContextManager, ExitStack, asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

from brotli_asgi import BrotliMiddleware
from fastapi import APIRouter, FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.staticfiles import StaticFiles

from app.analysis.settings import AnalysisSettings
from app.analysis.zones import load_zone_index
from app.collections.base import Collection
from app.collections.events import EventsCollection, event_collections
from app.collections.layers import load_layer_collections
from app.collections.registry import CollectionRegistry
from app.events.adapters import StoreEventCounter, StoreEventSource
from app.http.errors import document_errors, install_error_handlers
from app.ogc.openapi import to_openapi_30
from app.responses import JSONResponse
from app.routers import analysis, collections, events, items, landing
from app.routers import map as map_pages
from app.settings import ServiceSettings
from app.webmap.sources import BuiltLayers, GeoJSONEvents, MapData
from geodata.build import LAYERS_FOLDER, MANIFEST_NAME, read_manifest

CollectionProvider = Callable[[ServiceSettings], AbstractContextManager[Sequence[Collection]]]
STATIC_DIR = Path(__file__).resolve().parent / "static"


@contextmanager
def built_layers(settings: ServiceSettings) -> Iterator[Sequence[Collection]]:
    """The built zone layers of ``settings.data_dir``, read into memory once."""
    yield load_layer_collections(settings.data_dir)


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
]
#: Sources of collections, opened in the lifespan in this order.
COLLECTION_PROVIDERS: list[CollectionProvider] = [built_layers, event_collections]


def create_app(
    settings: ServiceSettings | None = None, providers: Sequence[CollectionProvider] | None = None
) -> FastAPI:
    """A new application; collections are loaded when its lifespan starts, not here."""
    settings = settings or _settings_from_environment()
    chosen = list(COLLECTION_PROVIDERS if providers is None else providers)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        with ExitStack() as stack:
            registry = CollectionRegistry()
            for provider in chosen:
                registry = registry.register(*stack.enter_context(provider(settings)))
            app.state.collections = registry
            _load_derived_state(app, settings, registry)
            yield

    app = FastAPI(
        title=settings.title,
        description=settings.description,
        version="1.0",
        lifespan=lifespan,
        openapi_url=None,
        docs_url=None,
        redoc_url=None,
        default_response_class=JSONResponse,
    )
    app.state.settings = settings
    install_error_handlers(app)  # every domain's errors, one body shape
    for router in ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    app.add_middleware(BrotliMiddleware, minimum_size=settings.compress_min_size, gzip_fallback=True)
    app.add_middleware(
        CORSMiddleware,
        allow_origins=settings.cors_origins,
        allow_methods=["GET", "HEAD", "OPTIONS", "POST"],  # POST: the analysis endpoints compute, store nothing
        allow_headers=["*"],
        expose_headers=["ETag", "Link", "Content-Crs", "Content-Disposition"],
    )
    _openapi_30(app)
    return app


def _load_derived_state(app: FastAPI, settings: ServiceSettings, registry: CollectionRegistry) -> None:
    """What the map pages and the analysis read: the manifest, zones for the static map, the zone index.

    Apps built with their own collection providers (tests over a tiny layer) may have no built data folder;
    the layer provider is what requires one.
    """
    if not (settings.data_dir / LAYERS_FOLDER / MANIFEST_NAME).exists():
        return
    manifest = read_manifest(settings.data_dir)
    app.state.manifest = manifest
    app.state.map_data = MapData(zones=BuiltLayers(settings.data_dir, manifest), events=GeoJSONEvents([]))
    store = next((c for c in registry if isinstance(c, EventsCollection)), None)
    if store is not None:  # the event store is open: writes, the static map and the zone summary use it
        app.state.events = store.service
        app.state.map_data = MapData(zones=app.state.map_data.zones, events=StoreEventSource(store.service))
        app.state.event_counter = StoreEventCounter(store.service)
    # point grids are built on first use, so start-up (and every test app) stays fast
    app.state.zone_index = load_zone_index(settings.data_dir, warm=False)
    overrides: dict[str, Any] = {"data_dir": settings.data_dir}  # the rest from CZMAP_* variables
    app.state.analysis_settings = AnalysisSettings(**overrides)


def _settings_from_environment() -> ServiceSettings:
    values: dict[str, Any] = {}  # every field from CZMAP_* variables or its default
    return ServiceSettings(**values)


def _openapi_30(app: FastAPI) -> None:
    """Make ``app.openapi()`` return the OpenAPI 3.0 form of the generated document, error bodies documented."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = to_openapi_30(document_errors(generate()))
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def __getattr__(name: str) -> Any:
    """Build the module-level ``app`` on first access (for ``uvicorn app.main:app``), not at import."""
    if name == "app":
        app = create_app()
        globals()["app"] = app
        return app
    raise AttributeError(name)
