"""The ceiling of any ASGI app under uvicorn: the bytes of one file from memory, for every request.

``uvicorn bare_asgi:app`` with ``CZMAP_BENCH_BODY=<file>`` (``bench/cache_vs_nginx.py`` starts it): no routing,
no middleware, one header list built once. What this service's response cache is measured against, besides nginx.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

BODY = Path(os.environ["CZMAP_BENCH_BODY"]).read_bytes()
HEADERS = [(b"content-type", b"application/geo+json"), (b"content-length", str(len(BODY)).encode())]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answer every HTTP request with :data:`BODY`."""
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})
