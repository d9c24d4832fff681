"""Security headers, request ids, rate limits, the failed-authentication lockout and bounded expensive requests.

The apps here serve the tiny layer of a fixture (no build needed) unless a test needs the event store.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from testsupport import make_settings

from app.http.headers import DATA_POLICY
from app.http.limits import LimitsMiddleware
from app.http.logging import JsonFormatter
from app.main import create_app
from app.settings import ServiceSection

TinyApp = Callable[..., AbstractContextManager[TestClient]]


@pytest.fixture
def client(tiny_app: TinyApp) -> Iterator[TestClient]:
    with tiny_app() as test_client:
        yield test_client


# -- headers on every response ----------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("path", "frame"),
    [
        ("/collections?f=html", "DENY"),
        ("/collections/tiny/items?f=html", "DENY"),
        ("/collections/tiny/items/a?f=html", "DENY"),
        ("/api/docs", "DENY"),
        ("/api.html", "DENY"),
        ("/?f=html", "DENY"),
    ],
)
def test_html_pages_have_a_policy_nosniff_and_no_framing(client: TestClient, path: str, frame: str) -> None:
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy and "'unsafe-inline'" not in policy.split("style-src")[0]
    assert "frame-ancestors 'none'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == frame


@pytest.mark.parametrize(
    "path", ["/collections", "/collections/tiny/items", "/collections/nope", "/conformance?bad=1", "/health"]
)
def test_json_answers_and_errors_allow_nothing_to_run(client: TestClient, path: str) -> None:
    response = client.get(path)
    assert response.headers["Content-Security-Policy"] == DATA_POLICY
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"


# -- request ids and JSON logs ----------------------------------------------------------------------------------
def test_every_response_carries_a_request_id(client: TestClient) -> None:
    first, second = client.get("/collections"), client.get("/collections/nope")
    assert len(first.headers["X-Request-ID"]) == 32
    assert first.headers["X-Request-ID"] != second.headers["X-Request-ID"]


def test_a_client_request_id_is_kept_when_it_is_a_short_token(client: TestClient) -> None:
    assert client.get("/health", headers={"X-Request-ID": "trace-42"}).headers["X-Request-ID"] == "trace-42"
    hostile = client.get("/health", headers={"X-Request-ID": "a b<script>" + "x" * 100})
    assert len(hostile.headers["X-Request-ID"]) == 32


def test_log_records_are_json_with_the_request_id(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO, logger="czmap.access"):
        response = client.get("/collections", headers={"X-Request-ID": "abc-123"})
    records = [r for r in caplog.records if r.name == "czmap.access"]
    assert records, "no access record"
    line = json.loads(JsonFormatter().format(records[-1]))
    assert line["request_id"] == "abc-123" == response.headers["X-Request-ID"]
    assert line["status"] == 200 and line["path"] == "/collections" and line["duration_ms"] >= 0


def test_a_traceback_stays_on_one_json_line() -> None:
    try:
        raise ValueError("boom")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, "f.py", 1, "failed", None, __import__("sys").exc_info())
    text = JsonFormatter().format(record)
    assert "\n" not in text and "ValueError: boom" in json.loads(text)["exception"]


# -- rate limits --------------------------------------------------------------------------------------------------
def test_an_address_over_its_rate_gets_429_with_retry_after(tiny_app: TinyApp) -> None:
    with tiny_app(rate_per_address=1, burst_per_address=5) as limited:
        statuses = [limited.get("/conformance").status_code for _ in range(8)]
        assert statuses[:5] == [200] * 5 and set(statuses[5:]) == {429}
        refused = limited.get("/conformance")
        assert refused.json()["code"] == "TooManyRequests"
        assert 1 <= int(refused.headers["Retry-After"]) <= 2
        assert refused.headers["X-Content-Type-Options"] == "nosniff"  # the headers wrap the limits


def test_rate_zero_means_no_limit(tiny_app: TinyApp) -> None:
    with tiny_app(rate_per_address=0, burst_per_address=1) as unlimited:
        assert {unlimited.get("/conformance").status_code for _ in range(20)} == {200}


def test_expensive_requests_wait_for_a_slot_then_get_503(caplog: pytest.LogCaptureFixture) -> None:
    """Two analysis requests with one slot and no wait: the second is refused 503 while the first runs, and the
    refusal is logged (a line at INFO, and the first refusal of a minute at WARNING naming the settings)."""
    started = asyncio.Event()
    release = asyncio.Event()

    async def slow(scope: Any, receive: Any, send: Any) -> None:
        started.set()
        await release.wait()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    settings = ServiceSection(analysis_concurrency=1, busy_wait=0.05, rate_per_address=0)
    app = LimitsMiddleware(slow, settings)

    async def scenario() -> tuple[int, int, str | None]:
        transport = httpx.ASGITransport(app=app)  # type: ignore[arg-type]
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            first = asyncio.create_task(http.post("/analysis/overlap"))
            await started.wait()
            second = await http.post("/analysis/overlap")
            release.set()
            return (await first).status_code, second.status_code, second.headers.get("Retry-After")

    async def with_timeout() -> tuple[int, int, str | None]:
        return await asyncio.wait_for(scenario(), timeout=10)

    with caplog.at_level(logging.INFO, logger="app.http.limits"):
        first, second, retry_after = asyncio.run(with_timeout())
    assert (first, second) == (200, 503)
    assert retry_after is not None and int(retry_after) >= 1
    busy = [r for r in caplog.records if getattr(r, "event", None) == "busy"]
    assert [r.levelname for r in busy] == ["INFO", "WARNING"]
    assert "POST /analysis/overlap" in busy[0].getMessage()
    assert "service.analysis_concurrency = 1" in busy[1].getMessage() and "service.busy_wait" in busy[1].getMessage()


def test_a_client_that_leaves_frees_its_slot_at_once(caplog: pytest.LogCaptureFixture) -> None:
    """One analysis slot: the first client sends its body, then leaves while the work goes on; its work is
    cancelled and the next request gets the slot (200), where it would have waited for the work to end."""
    cancelled = asyncio.Event()

    async def analysis(scope: Any, receive: Any, send: Any) -> None:
        while (await receive()).get("more_body", False):
            pass
        if scope["query_string"] == b"slow":
            try:
                await asyncio.sleep(60)  # the work of a client that will not wait for it
            except asyncio.CancelledError:
                cancelled.set()
                raise
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"done"})

    settings = ServiceSection(analysis_concurrency=1, busy_wait=2, rate_per_address=0)
    app = LimitsMiddleware(analysis, settings)

    async def request(query: bytes, leave: asyncio.Event | None) -> list[dict[str, Any]]:
        messages = [{"type": "http.request", "body": b"id,lat,lon", "more_body": False}]
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            if messages:
                return messages.pop(0)
            if leave is not None:
                await leave.wait()  # the client closes its connection
            else:
                await asyncio.Event().wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {
            "type": "http",
            "method": "POST",
            "path": "/analysis/classify",
            "query_string": query,
            "headers": [],
            "client": ("127.0.0.1", 1),
        }
        await app(scope, receive, send)
        return sent

    async def scenario() -> list[dict[str, Any]]:
        leave = asyncio.Event()
        first = asyncio.create_task(request(b"slow", leave))
        await asyncio.sleep(0.1)
        leave.set()
        second = await request(b"", None)
        assert await first == []  # nothing was sent to the client that left
        return second

    with caplog.at_level(logging.INFO, logger="app.http.limits"):
        answer = asyncio.run(asyncio.wait_for(scenario(), timeout=10))
    assert answer[0]["status"] == 200 and cancelled.is_set()
    assert any(getattr(r, "event", None) == "client_gone" for r in caplog.records)


# -- failed authentications: logged, and an address that keeps failing is locked out -----------------------------
@pytest.fixture
def lockout_client(built_data_dir: Path, tmp_path: Path) -> Iterator[TestClient]:
    settings = make_settings(
        built_data_dir,
        database_url=f"sqlite:///{tmp_path / 'events.sqlite'}",
        seed=False,
        service={"auth_failures_per_address": 5, "rate_per_address": 0},
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def test_failed_authentications_are_logged_and_lock_the_address_out(
    lockout_client: TestClient, event_feature: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from app.events.auth import create_key

    good = create_key(lockout_client.app.state.events.store, "editor", "lockout test")  # type: ignore[attr-defined]
    wrong = "Bearer czm_0123456789ab_not-the-secret"
    items = "/collections/events/items"
    with caplog.at_level(logging.WARNING, logger="app.http.limits"):
        statuses = [
            lockout_client.post(items, json=event_feature(1), headers={"Authorization": wrong}).status_code
            for _ in range(8)
        ]
    assert statuses[:5] == [401] * 5 and set(statuses[5:]) == {429}
    failures = [r for r in caplog.records if "authentication failed" in r.getMessage()]
    assert len(failures) == 5
    assert "key 0123456789ab" in failures[0].getMessage() and "not-the-secret" not in failures[0].getMessage()
    # even the right key is refused from a locked-out address, until the count drains (5 a minute: 12 s each)
    locked = lockout_client.post(items, json=event_feature(1), headers={"Authorization": f"Bearer {good}"})
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 1
    # reads without credentials are not locked out
    assert lockout_client.get(items, params={"limit": 1}).status_code == 200


def test_writes_per_key_are_limited(built_data_dir: Path, tmp_path: Path, event_feature: Any) -> None:
    from app.events.auth import create_key

    settings = make_settings(
        built_data_dir,
        database_url=f"sqlite:///{tmp_path / 'events.sqlite'}",
        seed=False,
        service={"writes_per_key": 1, "burst_per_key": 2, "rate_per_address": 0},
    )
    with TestClient(create_app(settings)) as limited:
        key = create_key(limited.app.state.events.store, "editor", "rate test")  # type: ignore[attr-defined]
        headers = {"Authorization": f"Bearer {key}"}
        statuses = [
            limited.post("/collections/events/items", json=event_feature(n), headers=headers).status_code
            for n in range(1, 4)
        ]
        assert statuses == [201, 201, 429]
        assert limited.get("/collections/events/items", params={"limit": 1}).status_code == 200


# -- small things -------------------------------------------------------------------------------------------------
def test_the_413_for_a_chunked_body_names_the_limit() -> None:
    from app.errors import BodyTooLarge

    message = str(BodyTooLarge(None, 1_000_000))
    assert "more than 1,000,000 bytes" in message and ": more;" not in message


# -- small things: media types, CSV formulas, unclosed rings, a client gone mid-body -----------------------------
@pytest.fixture(scope="module")
def layers_client(built_data_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    database = tmp_path_factory.mktemp("hardening") / "events.sqlite"
    settings = make_settings(built_data_dir, database_url=f"sqlite:///{database}", service={"rate_per_address": 0})
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.mark.parametrize("media", ["text/plain", "application/x-www-form-urlencoded", "multipart/form-data; b=x"])
def test_an_event_write_declared_as_not_json_is_415(layers_client: TestClient, event_feature: Any, media: str) -> None:
    from app.events.auth import create_key

    key = create_key(layers_client.app.state.events.store, "editor", "media test")  # type: ignore[attr-defined]
    body = json.dumps(event_feature(1)).encode()
    headers = {"Authorization": f"Bearer {key}", "Content-Type": media}
    response = layers_client.post("/collections/events/items", content=body, headers=headers)
    assert response.status_code == 415, response.text
    assert response.json()["code"] == "UnsupportedMediaType"
    assert layers_client.get(f"/collections/events/items/{event_feature(1)['id']}").status_code == 404


def test_classify_csv_neutralises_formulas(layers_client: TestClient) -> None:
    body = b'id,lat,lon,note\n=HYPERLINK("http://evil.example/x"),39.5,46.7,@SUM(A1)\nB,39.6,-46.8,+1 cmd\n'
    response = layers_client.post("/analysis/classify?format=csv", content=body, headers={"content-type": "text/csv"})
    assert response.status_code in (200, 422), response.text
    if response.status_code == 422:  # the second point is outside the region: keep the first only
        body = b'id,lat,lon,note\n=HYPERLINK("http://evil.example/x"),39.5,46.7,@SUM(A1)\n'
        response = layers_client.post(
            "/analysis/classify?format=csv", content=body, headers={"content-type": "text/csv"}
        )
    import csv
    import io

    rows = list(csv.reader(io.StringIO(response.text)))
    cells = [cell for row in rows for cell in row]
    assert not any(cell.startswith(("=", "@", "+")) for cell in cells), rows
    assert '\'=HYPERLINK("http://evil.example/x")' in cells and "'@SUM(A1)" in cells
    assert "46.7" in cells  # numbers are not touched


def test_overlap_refuses_an_unclosed_ring(layers_client: TestClient) -> None:
    ring = [[46.5, 39.5], [46.7, 39.5], [46.7, 39.7], [46.5, 39.7]]  # last position is not the first
    response = layers_client.post("/analysis/overlap", json={"type": "Polygon", "coordinates": [ring]})
    assert response.status_code == 422, response.text
    assert "not closed" in response.json()["description"]
    closed = layers_client.post("/analysis/overlap", json={"type": "Polygon", "coordinates": [[*ring, ring[0]]]})
    assert closed.status_code == 200


def test_a_client_gone_mid_body_is_one_log_line(layers_client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    app = layers_client.app
    messages = [
        {"type": "http.request", "body": b'{"type": "Polygon", ', "more_body": True},
        {"type": "http.disconnect"},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/analysis/overlap",
        "raw_path": b"/analysis/overlap",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"host", b"testserver"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
        ],
        "client": ("127.0.0.1", 5000),
        "server": ("testserver", 80),
        "state": {},
    }
    with caplog.at_level(logging.INFO):
        layers_client.portal.call(app, scope, receive, send)  # type: ignore[union-attr, arg-type]
    assert sent[0]["status"] == 400
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not [r for r in caplog.records if r.exc_info]
    assert any("client disconnected" in r.getMessage() for r in caplog.records)
