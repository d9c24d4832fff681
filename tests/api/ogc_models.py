"""Typed models of the OGC API responses, used to validate bodies: the service's own (app.ogc.models), stricter
where a test knows more, and the error body as the README promises it."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from app.ogc import models as service_models
from app.ogc.models import (  # noqa: F401 (re-exported for the tests)
    Collection,
    Collections,
    Conformance,
    Extent,
    LandingPage,
    Link,
    OneFeature,
    Queryables,
    SpatialExtent,
    TemporalExtent,
)


class FeaturePage(service_models.FeaturePage):
    numberMatched: int  # every page the tests read is below the count cap


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
