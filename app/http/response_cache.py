"""A response cache in front of the app for what cannot change while the service runs: the built layers.

A built layer is immutable between builds, yet without this every request for it filtered, reprojected,
serialised and compressed it again (bench/RESULTS.md: 0.04x nginx serving the same bytes). The
:class:`ResponseCacheMiddleware` sits in front of FastAPI's routing (inside CORS, outside compression) and keeps
the finished bytes of ``GET /collections/{layer}/items`` and ``/collections/{layer}/items/{featureId}``, as the
client received them (brotli, gzip or identity), per **normalised request**:

- the layer's data version (a rebuild gives another version, so nothing cached from the old build is served);
- scheme, ``Host`` and root path (the links in a body are absolute URLs of the address the client used);
- the path and the query parameters in sorted order (``a=1&b=2`` and ``b=2&a=1`` are one entry);
- the content coding (:func:`~app.http.etags.coding_of`), the format ``Accept`` asks for without ``f``
  (:func:`~app.http.request.format_from_accept`) and the ``Origin`` (the CORS headers are kept with the body):
  the headers the answer depends on.

It also keeps the static files (``/static/...``: the map's scripts and styles) compressed, by path, size,
modification time, coding and ``Origin``.

The route computes the same strong ETag for all requests of one key (:func:`app.http.etags.request_etag`
hashes version, path, sorted query, format, CRS and coding), so a hit carries the route's own ETag, and an
``If-None-Match`` naming it is answered 304 exactly as the route would. Collections whose features change while
the service runs (``Collection.mutable``: the event store) are never cached; neither are responses other than 200,
responses without an ETag, or bodies larger than an entry may be (a quarter of the budget: whole-layer
``f=gpkg`` downloads stream from disk anyway). Entries are evicted least recently used first, within
``settings.service.response_cache_bytes``.

A cached page keeps the ``timeStamp`` of the response it was first built for: it is the same representation
(same ETag), generated then.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from threading import Event, Lock

from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import CollectionNotFound
from app.http.etags import coding_of, none_match
from app.http.request import format_from_accept

CacheKey = tuple[object, ...]
#: Where the app serves its static files (``app.state.static_dir``).
STATIC_PREFIX = "/static/"
_WANTED = {b"host", b"accept", b"accept-encoding", b"if-none-match", b"origin"}


@dataclass(frozen=True)
class CachedResponse:
    """A finished response: status, raw headers, body, and the two headers a 304 repeats."""

    status: int
    headers: list[tuple[bytes, bytes]]
    body: bytes
    etag: str
    cache_control: bytes

    @property
    def size(self) -> int:
        """Bytes held: the body plus the headers."""
        return len(self.body) + sum(len(k) + len(v) for k, v in self.headers)


class ResponseStore:
    """Responses by :data:`CacheKey`, least recently used evicted first once ``max_bytes`` is passed.

    Examples
    --------
    >>> store = ResponseStore(max_bytes=400)
    >>> store.put(("a",), CachedResponse(200, [], b"x" * 90, '"e"', b"public"))
    True
    >>> store.put(("b",), CachedResponse(200, [], b"x" * 101, '"e"', b"public"))  # above max_bytes // 4
    False
    >>> store.get(("a",)).body == b"x" * 90, store.get(("b",)), store.hits, store.misses
    (True, None, 1, 1)

    """

    def __init__(self, max_bytes: int) -> None:
        #: The image and tile routes run in the thread pool: one thread at a time reads or reorders the LRU.
        self._lock = Lock()
        self.max_bytes = max_bytes
        #: Largest single entry: a quarter of the budget, so one response never evicts most of the others.
        self.max_entry = max_bytes // 4
        self.size = 0
        self.hits = 0
        self.misses = 0
        self.kept = 0
        self._entries: OrderedDict[CacheKey, CachedResponse] = OrderedDict()
        self._building: dict[CacheKey, Event] = {}  # key -> set when the request building its entry is done

    def get(self, key: CacheKey) -> CachedResponse | None:
        """The response stored for ``key`` (now the most recently used), or None."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found

    def put(self, key: CacheKey, response: CachedResponse) -> bool:
        """Keep ``response`` under ``key``; False (nothing kept) when it is larger than :attr:`max_entry`."""
        if response.size > self.max_entry:
            return False
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self.size -= old.size
            self._entries[key] = response
            self.size += response.size
            while self.size > self.max_bytes:
                _, evicted = self._entries.popitem(last=False)
                self.size -= evicted.size
            self.kept += 1
        return True

    @contextmanager
    def building(self, key: CacheKey, wait: float = 10.0) -> Iterator[bool]:
        """True for the one request that builds the entry of ``key`` now; the others wait for it, then get False.

        A request given False looks again and builds the entry itself if it was not kept (the build failed, or it
        was too large): a failure is not passed on, and the waits are never queued one behind another. Nobody
        waits more than ``wait`` seconds.
        """
        with self._lock:
            done = self._building.get(key)
            leader = done is None
            if done is None:
                done = self._building[key] = Event()
        if not leader:
            done.wait(wait)
            yield False
            return
        try:
            yield True
        finally:
            with self._lock:
                del self._building[key]
            done.set()

    def __len__(self) -> int:
        return len(self._entries)


def stored_response(cached: CachedResponse) -> Response:
    """A response with the status, headers and body of ``cached`` (for routes that cache what they compute)."""
    headers = {k.decode("latin-1"): v.decode("latin-1") for k, v in cached.headers}
    return Response(cached.body, status_code=cached.status, headers=headers)


def cached_or_built(store: ResponseStore | None, key: CacheKey, build: Callable[[], Response]) -> Response:
    """The response kept under ``key``, or ``build()``'s, kept; requests that miss one key together build it once.

    When a write makes a new version, every reader of a widely read map misses the same page at once: without
    this each built it (a query and a serialisation, 100 ms on a big PostGIS store), and the database's cores went
    to building the same bytes dozens of times.
    """
    if store is None:
        return build()
    found = store.get(key)
    if found is None:
        with store.building(key) as leader:
            found = None if leader else store.get(key)  # built by the request this one waited for
            if found is None:
                return keep_response(store, key, build())
    return stored_response(found)


def keep_response(store: ResponseStore | None, key: CacheKey, response: Response) -> Response:
    """Keep a finished ``response`` under ``key`` in ``store`` (when there is one); return it unchanged."""
    if store is not None and response.status_code == 200:
        named = dict(response.raw_headers)
        etag = named.get(b"etag", b"").decode("latin-1")
        cached = CachedResponse(
            200, list(response.raw_headers), bytes(response.body), etag, named.get(b"cache-control", b"")
        )
        store.put(key, cached)
    return response


class ResponseCacheMiddleware:
    """ASGI middleware: repeated GETs of immutable layer features answered from a :class:`ResponseStore`."""

    def __init__(self, app: ASGIApp, store: ResponseStore) -> None:
        self.app = app
        self.store = store

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Answer from the store, or pass the request on and keep what the app answers."""
        found = _cacheable(scope)
        if found is None:
            await self.app(scope, receive, send)
            return
        key, if_none_match = found
        cached = self.store.get(key)
        if cached is not None:
            await _replay(cached, if_none_match, send)
        else:
            await self.app(scope, receive, self._keeping(key, send))

    def _keeping(self, key: CacheKey, send: Send) -> Send:
        """``send``, also storing a complete 200 response that carries an ETag."""
        start: Message = {}
        chunks: list[bytes] = []
        budget = self.store.max_entry
        keep = True

        async def capture(message: Message) -> None:
            nonlocal keep, budget
            if message["type"] == "http.response.start":
                start.update(message)
                keep = message["status"] == 200
            elif message["type"] == "http.response.body" and keep:
                body = message.get("body", b"")
                budget -= len(body)
                keep = budget >= 0
                chunks.append(body)
                if keep and not message.get("more_body", False):
                    _store(self.store, key, start, b"".join(chunks))
            await send(message)

        return capture


def _cacheable(scope: Scope) -> tuple[CacheKey, str] | None:
    """The cache key of a GET for an immutable layer's features or a static file, and its ``If-None-Match``.

    None for anything else. HEAD is left to the app (which answers it as it answers HEAD elsewhere), so a cache
    hit never changes what a HEAD gets.
    """
    if scope["type"] != "http" or scope["method"] != "GET":
        return None
    if scope["path"].startswith(STATIC_PREFIX):
        return _static_key(scope)
    parts = scope["path"].split("/")
    if len(parts) not in (4, 5) or parts[1] != "collections" or parts[3] != "items" or parts[-1] == "":
        return None
    registry = getattr(scope["app"].state, "collections", None) if "app" in scope else None
    if registry is None:
        return None
    try:
        collection = registry.get(parts[2])
    except CollectionNotFound:
        return None
    if collection.mutable:
        return None
    headers = {k: v for k, v in scope["headers"] if k in _WANTED}
    accept = headers.get(b"accept", b"").decode("latin-1")
    coding = coding_of(headers.get(b"accept-encoding", b"").decode("latin-1"))
    query = tuple(sorted(scope["query_string"].split(b"&")))
    key = (
        collection.meta.version,
        scope.get("scheme"),
        headers.get(b"host"),
        scope.get("root_path", ""),
        scope["path"],
        query,
        coding,
        format_from_accept(accept),
        headers.get(b"origin"),
    )
    return key, headers.get(b"if-none-match", b"").decode("latin-1")


def _static_key(scope: Scope) -> tuple[CacheKey, str] | None:
    """The key of a static file (Leaflet, our script and styles): its path, size and modification time, coding.

    Every reader of a map asks for the same ten files; without this each was read and compressed again (leaflet.js:
    13 ms of the server's CPU with brotli, more than the page and its layers together). The file's size and time
    are in the key, so a file changed on disk is served anew. Range requests are left to the app.
    """
    static_dir = getattr(scope["app"].state, "static_dir", None) if "app" in scope else None
    headers = {k: v for k, v in scope["headers"] if k in _WANTED or k == b"range"}
    if static_dir is None or b"range" in headers:
        return None
    try:
        found = os.stat(static_dir / scope["path"][len(STATIC_PREFIX) :])
    except (OSError, ValueError):
        return None
    coding = coding_of(headers.get(b"accept-encoding", b"").decode("latin-1"))
    key = ("static", scope["path"], found.st_size, found.st_mtime_ns, coding, headers.get(b"origin"))
    return key, headers.get(b"if-none-match", b"").decode("latin-1")


def _store(store: ResponseStore, key: CacheKey, start: Message, body: bytes) -> None:
    headers = [(bytes(k), bytes(v)) for k, v in start.get("headers", [])]
    named = dict(headers)
    etag = named.get(b"etag")
    if etag is None or b"no-store" in named.get(b"cache-control", b"") or b"set-cookie" in named:
        return
    store.put(key, CachedResponse(200, headers, body, etag.decode("latin-1"), named.get(b"cache-control", b"")))


async def _replay(cached: CachedResponse, if_none_match: str, send: Send) -> None:
    if if_none_match and none_match(if_none_match, cached.etag):
        headers = [(b"etag", cached.etag.encode("latin-1")), (b"cache-control", cached.cache_control)]
        await send({"type": "http.response.start", "status": 304, "headers": headers})
        await send({"type": "http.response.body", "body": b""})
        return
    await send({"type": "http.response.start", "status": cached.status, "headers": cached.headers})
    await send({"type": "http.response.body", "body": cached.body})
