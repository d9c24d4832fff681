"""A dated control map as a timeline of changes over a fixed area (pure geometry, no I/O).

The area starts as a set of base faces, each with one controller. Each change then gives a region to a
controller from a date: every face the region covers and that is held by someone else is split, and the covered
part records the new period. At the end, faces with the same history are merged and each period of a history
becomes one feature. By construction the features valid on any day do not overlap and cover the whole area
(up to the slivers dropped below ``min_km2``).

Intervals are half-open: a feature is valid from ``valid_from`` (inclusive) to ``valid_to`` (exclusive); an
empty ``valid_to`` is open.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import shapely
from shapely.geometry.base import BaseGeometry

from geodata.transforms import M2_PER_KM2


@dataclass(frozen=True)
class Period:
    """One controller of a face from a date, and why (the change id, or the base state)."""

    start: str
    controlled_by: str
    change_id: str


@dataclass(frozen=True)
class Change:
    """A region given to a controller from a date. ``region`` is in an equal-area CRS (areas in m2)."""

    id: str
    date: str
    controlled_by: str
    region: BaseGeometry
    area_name: str
    info: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Face:
    """A piece of the area with a base unit (district or oblast) and its control history."""

    unit: str
    geometry: BaseGeometry
    history: list[Period]


def polygonal(geom: BaseGeometry) -> BaseGeometry:
    """Only the polygonal parts of ``geom`` (an overlay can leave lines and points behind)."""
    geom = shapely.make_valid(geom)
    if geom.geom_type in ("Polygon", "MultiPolygon"):
        return geom
    parts = [g for g in getattr(geom, "geoms", []) if g.geom_type in ("Polygon", "MultiPolygon")]
    return shapely.union_all(parts) if parts else shapely.Polygon()


def apply_changes(faces: Sequence[Face], changes: Iterable[Change], min_m2: float) -> list[Face]:
    """Split ``faces`` by each change in date order (stable for equal dates) and extend their histories.

    A face already held by the change's controller is left alone, so a change can name a whole district even
    where part of it never changed hands. Pieces smaller than ``min_m2`` are not split off: they stay with the
    larger part, so that no sliver of a coincident boundary becomes a face of its own.

    Examples
    --------
    >>> from shapely import box
    >>> base = [Face("u", box(0, 0, 2000, 1000), [Period("2000-01-01", "A", "base")])]
    >>> out = apply_changes(base, [Change("c", "2020-10-04", "B", box(1000, 0, 2000, 1000), "east")], 1.0)
    >>> [(round(f.geometry.area), [p.controlled_by for p in f.history]) for f in out]
    [(1000000, ['A']), (1000000, ['A', 'B'])]

    """
    current = list(faces)
    for change in sorted(changes, key=lambda c: c.date):
        prepared = change.region
        shapely.prepare(prepared)
        next_faces: list[Face] = []
        for face in current:
            if face.history[-1].controlled_by == change.controlled_by or not prepared.intersects(face.geometry):
                next_faces.append(face)
                continue
            inside = polygonal(face.geometry.intersection(change.region))
            outside = polygonal(face.geometry.difference(change.region))
            history = _extended(face.history, Period(change.date, change.controlled_by, change.id))
            if inside.area < min_m2:
                next_faces.append(face)
            elif outside.area < min_m2:
                next_faces.append(Face(face.unit, face.geometry, history))
            else:
                next_faces.append(Face(face.unit, outside, list(face.history)))
                next_faces.append(Face(face.unit, inside, history))
        current = next_faces
    return current


def _extended(history: Sequence[Period], period: Period) -> list[Period]:
    """``history`` plus ``period``; a period of the same day replaces the last one (no empty intervals)."""
    kept = list(history[:-1]) if history and history[-1].start == period.start else list(history)
    return [*kept, period]


def merge_histories(faces: Iterable[Face]) -> list[Face]:
    """Union the faces of each base unit that share one history, in first-seen order."""
    groups: dict[tuple[str, tuple[Period, ...]], list[BaseGeometry]] = {}
    for face in faces:
        groups.setdefault((face.unit, tuple(face.history)), []).append(face.geometry)
    return [Face(unit, polygonal(shapely.union_all(geoms)), list(history)) for (unit, history), geoms in groups.items()]


def slug(text: str) -> str:
    """A lower-case id fragment.

    >>> slug("Lachin corridor (2020 route)")
    'lachin-corridor-2020-route'
    """
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def features(
    faces: Iterable[Face],
    unit_names: Mapping[str, str],
    changes: Mapping[str, Change],
    base_names: Mapping[str, str],
    base_info: Mapping[str, Any],
) -> list[dict[str, Any]]:
    """One row per period of each merged face: unit, part, controller, validity and the change's fields.

    A part is named by the areas of the changes in its history (changes with an empty ``area_name`` do not
    name parts), or by ``base_names`` of its first controller when no change named it. Periods that no change
    started (the base state) carry ``base_info``.
    """
    rows: list[dict[str, Any]] = []
    seen: set[str] = set()
    for face in faces:
        named = [changes[p.change_id].area_name for p in face.history if p.change_id in changes]
        part = " / ".join(dict.fromkeys(n for n in named if n)) or base_names[face.history[0].controlled_by]
        for i, period in enumerate(face.history):
            change = changes.get(period.change_id)
            fid = stem = f"{face.unit}-{slug(part)[:60].rstrip('-')}-{period.start}"
            n = 2
            while fid in seen:
                fid, n = f"{stem}-{n}", n + 1
            seen.add(fid)
            following = face.history[i + 1] if i + 1 < len(face.history) else None
            rows.append(
                {
                    "id": fid,
                    "unit_id": face.unit,
                    "unit": unit_names[face.unit],
                    "area": part,
                    "controlled_by": period.controlled_by,
                    "valid_from": period.start,
                    "valid_to": following.start if following else None,
                    "change_id": period.change_id,
                    "ended_by": following.change_id if following else None,
                    **(dict(change.info) if change else dict(base_info)),
                    "geometry": face.geometry,
                }
            )
    return rows


def overlap_and_gap_m2(geoms: Sequence[BaseGeometry], area: BaseGeometry) -> tuple[float, float]:
    """Total pairwise overlap of ``geoms`` and the part of ``area`` they leave uncovered, in the CRS's units."""
    union = shapely.union_all(list(geoms))
    overlap = sum(g.area for g in geoms) - union.area
    return overlap, area.difference(union).area


def km2(m2: float) -> float:
    """Square metres to square kilometres."""
    return m2 / M2_PER_KM2
