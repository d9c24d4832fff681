"""Typed models of the OGC API responses: the API document's 200 schemas, and what the tests validate bodies with.

They describe what the service sends (extra members allowed where OGC API allows them); the documents themselves
are built in :mod:`app.ogc.documents`.
"""

from __future__ import annotations

from typing import Any

from geojson_pydantic import Feature, FeatureCollection
from pydantic import BaseModel, ConfigDict, Field


class Link(BaseModel):
    """A link of a response (RFC 8288 in JSON)."""

    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    """The landing page (``/``)."""

    title: str
    description: str
    attribution: str
    links: list[Link]


class Conformance(BaseModel):
    """The conformance classes (``/conformance``)."""

    conformsTo: list[str]


class SpatialExtent(BaseModel):
    """Bounding boxes of a collection."""

    bbox: list[list[float]] = Field(min_length=1)
    crs: str


class TemporalExtent(BaseModel):
    """Time intervals of a collection (open ends are null)."""

    interval: list[list[str | None]]
    trs: str


class Extent(BaseModel):
    """Spatial and temporal extent of a collection."""

    spatial: SpatialExtent
    temporal: TemporalExtent | None = None


class Collection(BaseModel):
    """One collection (``/collections/{collectionId}``)."""

    model_config = ConfigDict(extra="allow")
    id: str
    title: str
    description: str
    extent: Extent
    itemType: str
    crs: list[str]
    storageCrs: str
    license: str
    attribution: str
    links: list[Link]


class Collections(BaseModel):
    """Every collection (``/collections``)."""

    collections: list[Collection]
    links: list[Link]


class Queryables(BaseModel):
    """The properties a filter may use, as a JSON Schema (``/collections/{collectionId}/queryables``)."""

    model_config = ConfigDict(populate_by_name=True)
    schema_: str = Field(alias="$schema")
    type: str
    properties: dict[str, dict[str, Any]]


class FeatureSchema(Queryables):
    """The features of a collection as a JSON Schema (``/collections/{collectionId}/schema``)."""


class FeaturePage(FeatureCollection):
    """A page of features; ``numberMatched`` is left out above the count cap (README: Reported events)."""

    numberMatched: int | None = None
    numberReturned: int
    timeStamp: str
    links: list[Link]


class OneFeature(Feature):
    """One feature with its links."""

    links: list[Link]


#: The 200 body of each read operation, by path of the API document.
RESPONSE_MODELS: dict[str, type[BaseModel]] = {
    "/": LandingPage,
    "/conformance": Conformance,
    "/collections": Collections,
    "/collections/{collectionId}": Collection,
    "/collections/{collectionId}/queryables": Queryables,
    "/collections/{collectionId}/schema": FeatureSchema,
    "/collections/{collectionId}/items": FeaturePage,
    "/collections/{collectionId}/items/{featureId}": OneFeature,
    "/collections/events/items/{featureId}": OneFeature,
}
