"""HTML pages from the Jinja2 templates in ``app/templates`` (every value autoescaped)."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from fastapi import Request
from starlette.responses import HTMLResponse

from app.http.request import base_url
from app.ogc.documents import temporal_text

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


@cache
def environment() -> jinja2.Environment:
    """The template environment: autoescape on for every template, undefined values are errors."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES), autoescape=True, undefined=jinja2.StrictUndefined
    )
    env.filters["temporal"] = temporal_text
    return env


def render(request: Request, template: str, headers: dict[str, str] | None = None, **context: Any) -> HTMLResponse:
    """Render ``template`` with ``context`` plus ``request``, ``settings`` and ``base`` (the root URL)."""
    page = (
        environment()
        .get_template(template)
        .render(
            request=request,
            settings=request.app.state.settings,
            base=base_url(request),
            **context,
        )
    )
    return HTMLResponse(page, headers=headers)
