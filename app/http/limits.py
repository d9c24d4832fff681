"""Rate limits, a lockout after failed authentications, and bounded concurrency of the expensive operations.

One ASGI middleware, :class:`LimitsMiddleware`, configured by the ``service`` section of the settings:

- every request takes a token from its client address's bucket (``rate_per_address`` per second, ``burst_per_address``
  at once); an event write also takes one from its API key's bucket (``writes_per_key`` per minute,
  ``burst_per_key``). An empty bucket is a 429 ``TooManyRequests`` with ``Retry-After`` (seconds until a token);
- every 401 is logged (address, method, path, the key id when the key is well formed: never the secret) and
  counts against its address; over ``auth_failures_per_address`` a minute, requests with credentials from that
  address are refused (429) until the count has drained, so keys cannot be guessed at speed;
- image rendering (``/map.png|svg|pdf``) and the analysis endpoints run at most ``render_concurrency`` and
  ``analysis_concurrency`` at once; a request waits up to ``busy_wait`` seconds for its turn, then gets 503
  with ``Retry-After``. They hold the GIL for seconds: unbounded, they starve every other request.

The client address is the one uvicorn gives (``proxy_headers`` applies ``X-Forwarded-For`` from trusted proxies).
Buckets live in the worker process (each of N workers allows the rate; a deployment divides by N) and at most
:data:`MAX_TRACKED` addresses or keys are remembered (the least recently seen are forgotten first).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from app.errors import Busy, CzmapError, TooManyRequests
from app.http.errors import error_response, status_of
from app.settings import ServiceSection

logger = logging.getLogger(__name__)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

#: Most client addresses (or keys) a bucket table remembers.
MAX_TRACKED = 10_000
#: Seconds between two warnings that expensive requests are being refused (each refusal is logged at INFO).
BUSY_WARNING_INTERVAL = 60.0
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RENDER_PATHS = ("/map.png", "/map.svg", "/map.pdf")
ANALYSIS_PREFIX = "/analysis/"
_KEY_ID = re.compile(r"bearer\s+czm_([0-9a-f]{12})_", re.IGNORECASE)


class TokenBuckets:
    """Token buckets by key: ``rate`` tokens a second up to ``burst``; the least recently used are forgotten.

    Examples
    --------
    >>> buckets = TokenBuckets(rate=1.0, burst=2)
    >>> [buckets.take("a", now=0.0) for _ in range(3)]
    [0.0, 0.0, 1.0]
    >>> buckets.take("a", now=1.0), buckets.take("b", now=1.0)
    (0.0, 0.0)

    """

    def __init__(self, rate: float, burst: int, max_keys: int = MAX_TRACKED) -> None:
        self.rate, self.burst, self.max_keys = rate, float(burst), max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()

    def _tokens(self, key: str, now: float) -> float:
        tokens, last = self._buckets.get(key, (self.burst, now))
        return min(self.burst, tokens + max(0.0, now - last) * self.rate)

    def wait(self, key: str, now: float) -> float:
        """Seconds until ``key`` has a token (0.0 when it has one now); takes nothing."""
        tokens = self._tokens(key, now)
        return 0.0 if tokens >= 1.0 else (1.0 - tokens) / self.rate

    def take(self, key: str, now: float) -> float:
        """Take a token for ``key``: 0.0 when one was taken, else the seconds until one is available."""
        tokens = self._tokens(key, now)
        waited = 0.0
        if tokens >= 1.0:
            tokens -= 1.0
        else:
            waited = (1.0 - tokens) / self.rate
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self.max_keys:
            self._buckets.popitem(last=False)
        return waited


class _Slots:
    """``size`` slots of one kind of expensive request, made for the running event loop on first use.

    Refusals are logged: each at INFO, and a WARNING at most once a minute (with the count since the last one),
    so an operator sees that the service is shedding work without a line per request at WARNING.
    """

    def __init__(self, name: str, size: int, setting: str) -> None:
        self.name, self.size, self.setting = name, size, setting
        self._loop: asyncio.AbstractEventLoop | None = None
        self._semaphore: asyncio.Semaphore | None = None
        self._refused = 0
        self._warned_at = -math.inf

    def log_refusal(self, scope: Scope, address: str, waited: float) -> None:
        """Log one request refused because every slot stayed busy for ``waited`` seconds."""
        self._refused += 1
        extra = {"event": "busy", "slots": self.name, "client": address}
        method, path = scope["method"], scope["path"]
        logger.info(
            "busy: %s %s from %s refused 503, every %s slot busy", method, path, address, self.name, extra=extra
        )
        now = time.monotonic()
        if now - self._warned_at >= BUSY_WARNING_INTERVAL:
            logger.warning(
                "shedding load: %d request(s) refused 503 since the last warning; every %s slot "
                "(service.%s = %d) stayed busy for %g s (service.busy_wait)",
                self._refused,
                self.name,
                self.setting,
                self.size,
                waited,
                extra=extra,
            )
            self._warned_at, self._refused = now, 0

    def semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        if self._semaphore is None or self._loop is not loop:
            self._loop, self._semaphore = loop, asyncio.Semaphore(self.size)
        return self._semaphore


class LimitsMiddleware:
    """Rate limits per address and per key, the failed-authentication lockout and the expensive-request slots."""

    def __init__(self, app: ASGIApp, settings: ServiceSection) -> None:
        self.app = app
        self.settings = settings
        self.addresses = _buckets(settings.rate_per_address, settings.burst_per_address)
        self.keys = _buckets(settings.writes_per_key / 60, settings.burst_per_key)
        per_minute = settings.auth_failures_per_address
        self.failures = _buckets(per_minute / 60, max(1, math.ceil(per_minute)))
        self.render = _Slots("image rendering", settings.render_concurrency, "render_concurrency")
        self.analysis = _Slots("analysis", settings.analysis_concurrency, "analysis_concurrency")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Refuse a request over a limit; otherwise serve it (in its slot, for an expensive one)."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        address = (scope.get("client") or ("unknown", 0))[0]
        authorization = _header(scope, b"authorization")
        refusal = self._refusal(scope, address, authorization)
        if refusal is not None:
            await _error(refusal)(scope, receive, send)
            return
        send = self._watch_failures(scope, send, address, authorization)
        slots = self._slots_of(scope["path"])
        if slots is None:
            await self.app(scope, receive, send)
            return
        semaphore = slots.semaphore()
        try:
            await asyncio.wait_for(semaphore.acquire(), timeout=self.settings.busy_wait)
        except TimeoutError:
            slots.log_refusal(scope, address, self.settings.busy_wait)
            busy = Busy(f"every {slots.name} slot stayed busy for {self.settings.busy_wait:g} s; try again shortly")
            await _error(busy)(scope, receive, send)
            return
        try:
            await _serve_while_connected(self.app, scope, receive, send, slots.name)
        finally:
            semaphore.release()

    def _refusal(self, scope: Scope, address: str, authorization: str | None) -> CzmapError | None:
        now = time.monotonic()
        if authorization is not None and self.failures is not None:
            locked = self.failures.wait(address, now)
            if locked > 0:
                return TooManyRequests(
                    f"too many failed authentications from this address; try again in {math.ceil(locked)} s",
                    math.ceil(locked),
                )
        if self.addresses is not None:
            waited = self.addresses.take(address, now)
            if waited > 0:
                return TooManyRequests(
                    f"rate limit of {self.settings.rate_per_address:g} requests a second from one address exceeded",
                    math.ceil(waited),
                )
        if authorization is not None and self.keys is not None and scope["method"] in WRITE_METHODS:
            waited = self.keys.take(hashlib.sha256(authorization.encode()).hexdigest(), now)
            if waited > 0:
                return TooManyRequests(
                    f"rate limit of {self.settings.writes_per_key:g} writes a minute for this API key exceeded",
                    math.ceil(waited),
                )
        return None

    def _watch_failures(self, scope: Scope, send: Send, address: str, authorization: str | None) -> Send:
        """``send``, noting (and logging) a 401 answer against the address."""

        async def watched(message: Message) -> None:
            if message["type"] == "http.response.start" and message["status"] == 401:
                match = _KEY_ID.match(authorization or "")
                logger.warning(
                    "authentication failed: %s %s from %s (%s)",
                    scope["method"],
                    scope["path"],
                    address,
                    f"key {match[1]}" if match else "no key" if not authorization else "malformed key",
                    extra={"event": "auth_failed", "client": address, "key_id": match[1] if match else None},
                )
                if self.failures is not None:
                    self.failures.take(address, time.monotonic())
            await send(message)

        return watched

    def _slots_of(self, path: str) -> _Slots | None:
        if path in RENDER_PATHS:
            return self.render
        if path.startswith(ANALYSIS_PREFIX):
            return self.analysis
        return None


def _buckets(rate: float, burst: int) -> TokenBuckets | None:
    return TokenBuckets(rate, burst) if rate > 0 else None


async def _serve_while_connected(app: ASGIApp, scope: Scope, receive: Receive, send: Send, slots: str) -> None:
    """Serve an expensive request, cancelled if its client goes away before the answer starts.

    A client that gave up (a closed tab, a timeout) would otherwise keep its slot until the work was done, and
    the requests waiting for that slot would be refused meanwhile. Once the app has read the whole body, the
    connection is watched: ``receive`` then answers only ``http.disconnect`` (when the client leaves, or when the
    response is complete). An analysis waiting for its worker process is cancelled at once; an image being drawn
    in a thread is dropped when the drawing ends.
    """
    body_read = asyncio.Event()
    answering = False

    async def receive_body() -> Message:
        message = await receive()
        if message["type"] == "http.disconnect" or not message.get("more_body", False):
            body_read.set()
        return message

    async def send_answer(message: Message) -> None:
        nonlocal answering
        answering = answering or message["type"] == "http.response.start"
        await send(message)

    async def client_gone() -> None:
        await body_read.wait()
        while (await receive())["type"] != "http.disconnect":
            pass

    serving = asyncio.ensure_future(app(scope, receive_body, send_answer))
    watching = asyncio.ensure_future(client_gone())
    started = time.monotonic()
    try:
        await asyncio.wait({serving, watching}, return_when=asyncio.FIRST_COMPLETED)
        if not serving.done() and not answering:
            serving.cancel()
            logger.info(
                "client gone: %s %s cancelled after %.1f s, its %s slot freed",
                scope["method"],
                scope["path"],
                time.monotonic() - started,
                slots,
                extra={"event": "client_gone"},
            )
        try:
            await serving
        except asyncio.CancelledError:
            if not serving.cancelled():
                raise  # this request itself was cancelled (shutdown): not ours to swallow
    finally:
        watching.cancel()
        if not serving.done():  # this request was cancelled while its app ran: the app goes with it
            serving.cancel()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", ()):
        if key == name:
            return bytes(value).decode("latin-1")
    return None


def _error(exc: CzmapError) -> Any:
    status, code = status_of(exc)
    return error_response(status, code, str(exc), headers={"Retry-After": str(getattr(exc, "retry_after", 1))})
