"""The static files (the map's scripts, styles and images), sent with a Cache-Control so browsers keep them.

Without one, every reader's browser guessed how long to keep Leaflet and our script; with ``Cache-Control``
(``service.cache_max_age``) and the ETag Starlette gives each file, a reader opening a second embedded map asks
for nothing again, or revalidates with 304. The compressed bytes are kept by the response cache
(:mod:`app.http.response_cache`).
"""

from __future__ import annotations

import os
from typing import Any

from starlette.responses import Response
from starlette.staticfiles import StaticFiles
from starlette.types import Scope


class StaticAssets(StaticFiles):
    """:class:`StaticFiles` whose answers carry ``cache_control``."""

    def __init__(self, *, directory: os.PathLike[str] | str, cache_control: str, **kwargs: Any) -> None:
        super().__init__(directory=directory, **kwargs)
        self.cache_control = cache_control

    def file_response(
        self, full_path: os.PathLike[str] | str, stat_result: os.stat_result, scope: Scope, status_code: int = 200
    ) -> Response:
        """Starlette's file response (200, or 304 for a matching ``If-None-Match``) with the Cache-Control."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        response.headers.setdefault("Cache-Control", self.cache_control)
        return response
