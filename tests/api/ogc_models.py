"""Typed models of the OGC API responses, used to validate bodies."""

from __future__ import annotations

from typing import Any

from geojson_pydantic import Feature, FeatureCollection
from pydantic import BaseModel, ConfigDict, Field


class Link(BaseModel):
    href: str
    rel: str
    type: str | None = None
    title: str | None = None


class LandingPage(BaseModel):
    title: str
    description: str
    attribution: str
    links: list[Link]


class Conformance(BaseModel):
    conformsTo: list[str]


class SpatialExtent(BaseModel):
    bbox: list[list[float]] = Field(min_length=1)
    crs: str


class TemporalExtent(BaseModel):
    interval: list[list[str | None]]
    trs: str


class Extent(BaseModel):
    spatial: SpatialExtent
    temporal: TemporalExtent | None = None


class Collection(BaseModel):
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
    collections: list[Collection]
    links: list[Link]


class Queryables(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    schema_: str = Field(alias="$schema")
    type: str
    properties: dict[str, dict[str, Any]]


class FeaturePage(FeatureCollection):  # type: ignore[type-arg]
    numberMatched: int
    numberReturned: int
    timeStamp: str
    links: list[Link]


class OneFeature(Feature):  # type: ignore[type-arg]
    links: list[Link]


class Problem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    field: str
    message: str = Field(min_length=1)


class ErrorBody(BaseModel):
    """The one error body of every route (README "Errors"): nothing else may appear in it."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Z][A-Za-z]+$")
    description: str = Field(min_length=1)
    parameter: str | None = Field(default=None, min_length=1)
    problems: list[Problem] | None = Field(default=None, min_length=1)


def rels(links: list[Link]) -> dict[str, list[Link]]:
    out: dict[str, list[Link]] = {}
    for item in links:
        out.setdefault(item.rel, []).append(item)
    return out


#: A name that would run script if a page did not escape it.
HOSTILE = '<script>alert("x")</script>'
