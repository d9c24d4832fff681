"""The interface every kind of feature collection implements, and the value types it speaks.

The routes in :mod:`app.routers` know collections only through :class:`Collection`; the built zone layers
(:mod:`app.collections.layers`) are one implementation, a SQL-backed event store is meant to be another.

How to add a backend
--------------------
1. Write a class with a ``meta`` attribute (:class:`CollectionMeta`), a ``mutable`` class attribute (True when its
   features change while the service runs) and the three methods of :class:`Collection`.
   It must not import FastAPI: it receives parsed, validated values and raises :mod:`app.errors` exceptions.
2. ``queryables()`` lists the properties clients may filter on (equality parameters ``?name=value`` and CQL2).
   Include ``geometry`` (type ``geometry``) when spatial predicates are supported.
3. ``items(query)`` returns one page: apply, in this order, ``bbox`` (CRS84, intersects), ``datetime``
   (:class:`TimeInterval`; a feature without validity matches every interval), ``properties`` (equality),
   ``cql`` (a pygeofilter AST whose attributes have been checked against ``queryables()``; raise
   :class:`app.errors.InvalidFilter` for what you cannot evaluate), then ``offset``/``limit``. A backend that
   pages by keyset sets ``next_cursor`` on a page that has more, and reads ``cursor`` (the opaque string it gave)
   as "start after that position"; one that does not raises :class:`app.errors.InvalidParameter` for ``cursor``.
   ``number_matched`` counts every matching feature, not just the page (or is None, with ``more`` set, where an
   exact count would cost too much). Features are GeoJSON dicts in CRS84 with a
   string ``id``; the caller may keep them, so never hand out an object you mutate later. A SQL backend
   translates the AST with pygeofilter's SQL/SQLAlchemy backends instead of evaluating it in memory.
4. ``item(feature_id)`` returns one feature or raises :class:`app.errors.FeatureNotFound`.
5. Register it: a provider in ``app.main.COLLECTION_PROVIDERS`` yields the collections when the app starts.

Reprojection (``crs``), paging links, ETags and output formats are handled at the edge for every backend.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

Feature = dict[str, Any]
QueryableType = Literal["string", "integer", "number", "boolean", "geometry"]


@dataclass(frozen=True)
class Licence:
    """Licence of a collection's data."""

    name: str
    url: str | None = None


@dataclass(frozen=True)
class TimeInterval:
    """A closed time interval in UTC; ``None`` on either side means open (``..``)."""

    start: datetime | None = None
    end: datetime | None = None


@dataclass(frozen=True)
class CollectionMeta:
    """What the API publishes about a collection, independent of its storage."""

    id: str
    title: str
    description: str
    version: str
    bbox: tuple[float, float, float, float]
    geometry_type: str
    licence: Licence
    attribution: str
    keywords: tuple[str, ...] = ()
    temporal: TimeInterval | None = None
    #: Whole-collection downloads: format name (``gpkg``, ``fgb``) -> file.
    downloads: Mapping[str, Path] = field(default_factory=dict)
    #: Display style hints for maps (colour, weight, ...).
    style: Mapping[str, Any] = field(default_factory=dict)
    #: Zoom levels with a simplified display variant, ascending.
    zooms: tuple[int, ...] = ()


@dataclass(frozen=True)
class Queryable:
    """A property that clients may filter on."""

    name: str
    type: QueryableType
    title: str | None = None
    format: str | None = None

    def json_schema(self) -> dict[str, Any]:
        """JSON Schema of the property, as published at ``/queryables``."""
        if self.type == "geometry":
            return {"title": self.title or self.name, "format": "geometry-any"}
        schema: dict[str, Any] = {"title": self.title or self.name, "type": self.type}
        if self.format:
            schema["format"] = self.format
        return schema


@dataclass(frozen=True)
class ItemsQuery:
    """One request for a page of features; every value is already parsed and validated."""

    limit: int
    offset: int = 0
    bbox: tuple[float, float, float, float] | None = None
    datetime: TimeInterval | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)
    cql: Any = None
    zoom: int | None = None
    #: Opaque position from a ``next`` link (keyset paging): the page starts after it, ``offset`` counts from it.
    cursor: str | None = None
    #: Only numberMatched is wanted, exact (``resulttype=hits``): the features of the page are dropped.
    hits: bool = False


@dataclass(frozen=True)
class FeaturePage:
    """One page of features, how many match in total and whether more follow.

    ``number_matched`` may be None where counting every match would cost more than the page (the event store
    counts up to a cap); ``more`` must then be given. Where it is None, it is derived from the count.
    ``next_cursor``, when set, is where the next page starts (keyset paging): the ``next`` link carries it
    instead of an offset, so a deep page costs what the first does.
    """

    features: list[Feature]
    number_matched: int | None
    more: bool | None = None
    next_cursor: str | None = None

    def has_more(self, offset: int) -> bool:
        """Whether matching features follow this page, which starts at ``offset``."""
        if self.more is not None:
            return self.more
        return self.number_matched is not None and offset + len(self.features) < self.number_matched


@runtime_checkable
class Collection(Protocol):
    """A collection of features served through the OGC API routes."""

    meta: CollectionMeta
    #: True when features change while the service runs (writes), so responses must be revalidated and are never
    #: kept by the response cache. A plain attribute, not part of ``meta``: the cache asks it on the event loop for
    #: every request, where reading ``meta`` of the event store would be a database query.
    mutable: bool

    def version_now(self) -> str:
        """The data version read now (``meta`` of a store that cannot be reached is the last one read).

        Raises whatever reaching the data raises (the event store: :class:`~app.events.errors.StoreDown`).
        """
        ...

    def queryables(self) -> dict[str, Queryable]:
        """Properties that may be filtered on, by name."""
        ...

    def items(self, query: ItemsQuery) -> FeaturePage:
        """One page of the features matching ``query``."""
        ...

    def item(self, feature_id: str) -> Feature:
        """The feature with id ``feature_id``; raises :class:`app.errors.FeatureNotFound`."""
        ...
