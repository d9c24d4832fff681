"""A client that closes its connection during a long classification frees the analysis slot (a real server).

Through a real ``czmap serve`` (uvicorn's own disconnect signalling, the worker process): a planner's script that
posts 100,000 points and then gives up must not hold the one analysis slot for the seconds the classification
takes. The server logs the cancelled request, and the next classification is answered.
"""

from __future__ import annotations

import json
import random
import socket
import time
from urllib.parse import urlsplit

import httpx
from livesupport import LoggedServer

ROWS = 100_000  # ~6 s of classification on an idle 2-core machine: long enough to leave in the middle of it
PATH = "/analysis/classify?format=json"
CSV = {"content-type": "text/csv"}


def _big_csv() -> bytes:
    rng = random.Random(1)
    rows = (f"p{i},{38.8 + rng.random() * 1.8:.5f},{45.5 + rng.random() * 2.5:.5f}" for i in range(ROWS))
    return ("id,lat,lon\n" + "\n".join(rows) + "\n").encode()


def _post_and_leave(url: str, body: bytes, stay: float) -> None:
    """Send the whole request on a raw socket, wait ``stay`` seconds (the server reads the body), then close."""
    address = urlsplit(url)
    head = (
        f"POST {PATH} HTTP/1.1\r\nHost: {address.netloc}\r\nContent-Type: text/csv\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode()
    with socket.create_connection((address.hostname, address.port)) as sock:
        sock.sendall(head + body)
        time.sleep(stay)


def _records(server: LoggedServer) -> list[dict]:
    found = []
    for line in server.log.read_text(errors="replace").splitlines():
        try:
            found.append(json.loads(line))
        except ValueError:
            continue
    return found


def test_a_planner_who_gives_up_frees_the_analysis_slot(logged_live_server: LoggedServer) -> None:
    server = logged_live_server
    first = httpx.post(server.url + PATH, content=b"id,lat,lon\nA,39.82,46.75\n", headers=CSV, timeout=60)
    assert first.status_code == 200, first.text
    _post_and_leave(server.url, _big_csv(), stay=3.0)

    deadline = time.monotonic() + 60
    gone: list[dict] = []
    while not gone and time.monotonic() < deadline:
        gone = [r for r in _records(server) if r.get("event") == "client_gone"]
        time.sleep(0.2)
    assert gone, "the server did not notice the client had left"
    assert "POST /analysis/classify cancelled" in gone[0]["message"]
    # not answered as if the body were cut short: the body was whole, the client left during the work
    assert not [r for r in _records(server) if "before its request body was complete" in r.get("message", "")]

    answer = httpx.post(server.url + PATH, content=b"id,lat,lon\nB,40.18,44.51\n", headers=CSV, timeout=60)
    assert answer.status_code == 200, answer.text
