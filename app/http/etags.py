"""The one ETag scheme: strong tags of a representation, conditional GETs answered with 304.

Layer responses hash (data version, path, sorted query, variant) with :func:`strong_etag`; a single event is
tagged with its revision by :func:`revision_etag` so that a client can send it back as ``If-Match``. Either way
the variant names the negotiated format, CRS and the content coding the compression middleware will pick, so
each distinct byte sequence has its own tag.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping

from starlette.requests import Request

_REVISION_TAG = re.compile(r'(?<!W/)"(\d+)(?:-[a-z0-9-]*)?"')


class NotModified(Exception):
    """The client's cached copy is current (raised by :func:`check_not_modified`, answered with 304)."""

    def __init__(self, headers: Mapping[str, str]) -> None:
        super().__init__("not modified")
        self.headers = dict(headers)


def content_coding(request: Request) -> str:
    """The coding the compression middleware will answer with: ``br``, ``gzip`` or ``identity``."""
    return coding_of(request.headers.get("accept-encoding", ""))


def coding_of(accept_encoding: str) -> str:
    """The coding chosen for an ``Accept-Encoding`` header value (see :func:`content_coding`).

    Examples
    --------
    >>> coding_of("gzip, deflate, br"), coding_of("gzip"), coding_of("")
    ('br', 'gzip', 'identity')

    """
    return "br" if "br" in accept_encoding else "gzip" if "gzip" in accept_encoding else "identity"


def strong_etag(version: str, path: str, query: str, variant: str) -> str:
    """A strong ETag of the representation of data ``version`` at ``path?query`` in ``variant``.

    Examples
    --------
    >>> strong_etag("v1", "/collections", "", "json|br") == strong_etag("v1", "/collections", "", "json|br")
    True
    >>> strong_etag("v1", "/collections", "", "json|br") == strong_etag("v2", "/collections", "", "json|br")
    False

    """
    digest = hashlib.sha256(f"{version}|{path}|{query}|{variant}".encode()).hexdigest()[:32]
    return f'"{digest}"'


def request_etag(request: Request, version: str, variant: str) -> str:
    """:func:`strong_etag` of the request's path and sorted query, with the content coding added to ``variant``."""
    query = "&".join(f"{k}={v}" for k, v in sorted(request.query_params.multi_items()))
    return strong_etag(version, request.url.path, query, f"{variant}|{content_coding(request)}")


def revision_etag(revision: int, variant: str = "") -> str:
    """The ETag of a revision of an event (``variant`` tells representations of the same revision apart).

    Examples
    --------
    >>> revision_etag(3), revision_etag(3, "html-br")
    ('"3"', '"3-html-br"')
    >>> revisions_named('"3-html-br", W/"4", "5"')
    {3, 5}

    """
    return f'"{revision}-{variant}"' if variant else f'"{revision}"'


def revisions_named(if_match: str) -> set[int]:
    """The revisions an ``If-Match`` header names with strong revision tags."""
    return {int(m[1]) for m in _REVISION_TAG.finditer(if_match)}


def check_not_modified(request: Request, etag: str, headers: Mapping[str, str]) -> None:
    """Raise :class:`NotModified` (with ``headers``) when ``If-None-Match`` names ``etag`` or ``*``."""
    if none_match(request.headers.get("if-none-match", ""), etag):
        raise NotModified(headers)


def none_match(if_none_match: str, etag: str) -> bool:
    """Whether an ``If-None-Match`` value names ``etag`` (weakly compared, as RFC 9110 asks) or is ``*``.

    Examples
    --------
    >>> none_match('W/"a", "b"', '"a"'), none_match("*", '"a"'), none_match("", '"a"')
    (True, True, False)

    """
    candidates = {t.strip().removeprefix("W/") for t in if_none_match.split(",")}
    return etag in candidates or "*" in candidates
