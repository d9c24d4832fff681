"""The benchmark's queries: seeded 50 km boxes and one-week windows, expected counts, and the in-process timing.

Four kinds of request, each over the same 200 boxes (``--queries``):

``bbox``       a 50 km x 50 km box, no time (the only kind every pygeoapi provider can express exactly);
``bbox-week``  the box and a 7-day window;
``cql``        the box and the CQL2 filter ``event_type = 'Battles' AND fatalities_best > 5``;
``equality``   the box and ``event_type = 'Battles' AND verification = 'verified'`` (pygeoapi: property query
               parameters; ours: the same condition as CQL2 text).

Box edges are rounded to 0.001 degrees and event coordinates to 0.00001, so no event lies within the float32
rounding of an index box (about 4e-6 degrees here) of an edge: every store must then match exactly the events a
numpy brute-force count finds, which :func:`expected_count` provides.
"""

from __future__ import annotations

import math
import statistics
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import numpy as np

KINDS = ("bbox", "bbox-week", "cql", "equality")
BOX_KM = 50.0
CQL = "event_type = 'Battles' AND fatalities_best > 5"
EQUALITY = (("event_type", "Battles"), ("verification", "verified"))
EQUALITY_CQL = " AND ".join(f"{k} = '{v}'" for k, v in EQUALITY)
KM_PER_DEGREE = 111.32


@dataclass(frozen=True)
class Query:
    """One request: a box, an optional week and what else the kind adds."""

    kind: str
    bbox: tuple[float, float, float, float]
    first_day: int | None = None  # days since FIRST_DAY; the window is [first_day, first_day + 6]

    def interval(self, first: Any) -> tuple[Any, Any] | None:
        """``(start, end)`` dates of the week, or None."""
        if self.first_day is None:
            return None
        start = first + timedelta(days=self.first_day)
        return start, start + timedelta(days=6)


def make_queries(lon: np.ndarray, lat: np.ndarray, count: int, seed: int, days: int) -> dict[str, list[Query]]:
    """``count`` boxes (half centred on random events, half uniform over the events' extent) and weeks, per kind."""
    rng = np.random.default_rng(seed)
    on_event = rng.integers(0, len(lon), count)
    uniform = rng.random(count) < 0.5
    cx = np.where(uniform, rng.uniform(lon.min(), lon.max(), count), lon[on_event])
    cy = np.where(uniform, rng.uniform(lat.min(), lat.max(), count), lat[on_event])
    weeks = rng.integers(0, days - 6, count)
    boxes = [_box(float(x), float(y)) for x, y in zip(cx, cy, strict=True)]
    return {
        "bbox": [Query("bbox", b) for b in boxes],
        "bbox-week": [Query("bbox-week", b, int(w)) for b, w in zip(boxes, weeks, strict=True)],
        "cql": [Query("cql", b) for b in boxes],
        "equality": [Query("equality", b) for b in boxes],
    }


def _box(x: float, y: float) -> tuple[float, float, float, float]:
    half_lat = BOX_KM / 2 / KM_PER_DEGREE
    half_lon = half_lat / math.cos(math.radians(y))
    return (round(x - half_lon, 3), round(y - half_lat, 3), round(x + half_lon, 3), round(y + half_lat, 3))


# -- expected counts ---------------------------------------------------------------------------------------------
def expected_mask(events: Any, query: Query, type_names: list[str], verification_names: list[str]) -> np.ndarray:
    """Which generated events a query must match, by brute force over the arrays."""
    west, south, east, north = query.bbox
    mask = (events.lon >= west) & (events.lon <= east) & (events.lat >= south) & (events.lat <= north)
    if query.first_day is not None:
        mask &= (events.day >= query.first_day) & (events.day <= query.first_day + 6)
    battles = np.array([t == "Battles" for t in type_names])[events.type_idx]
    if query.kind == "cql":
        mask &= battles & (events.fatalities[:, 1] > 5)
    elif query.kind == "equality":
        mask &= battles & (np.array([v == "verified" for v in verification_names])[events.verification_idx])
    return mask


def expected_count(events: Any, query: Query, type_names: list[str], verification_names: list[str]) -> int:
    """The number of events a query must match, by brute force over the generated arrays."""
    return int(expected_mask(events, query, type_names, verification_names).sum())


def expected_page(mask: np.ndarray, day: np.ndarray, limit: int) -> list[int]:
    """Indexes of the first ``limit`` matches in the stores' order, (date_start, id); ids follow the index."""
    found = np.flatnonzero(mask)
    return found[np.lexsort((found, day[found]))][:limit].tolist()


def count_agrees(matched: int | None, expected: int, bound: int) -> bool:
    """Our numberMatched is exact, or left out (None) only when more than ``bound`` events match."""
    return matched == expected if matched is not None else expected > bound


# -- our stores, in process --------------------------------------------------------------------------------------
def store_query(query: Query, first_day: Any, limit: int) -> Any:
    """The :class:`EventQuery` our store runs for ``query``."""
    from app.collections.cql import parse_cql2_text
    from app.events.store.base import EventQuery

    cql = {"cql": CQL, "equality": EQUALITY_CQL}.get(query.kind)
    return EventQuery(
        bbox=query.bbox,
        datetime=query.interval(first_day),
        cql=parse_cql2_text(cql) if cql else None,
        limit=limit,
    )


def time_store(run: Callable[[Any], Any], queries: list[Any], passes: int, budget_s: float) -> dict[str, Any]:
    """Time ``run`` over every query (one untimed pass, kept for the checks, then ``passes`` timed passes).

    ``run`` returns an :class:`app.events.store.base.EventPage`; at most ``budget_s`` seconds are timed.
    """
    pages = [run(q) for q in queries]
    matched = [page.matched for page in pages]
    page_ids = [[f["id"] for f in page.features] for page in pages]
    latencies: list[float] = []
    deadline = time.monotonic() + budget_s
    for _ in range(passes):
        for q in queries:
            t0 = time.perf_counter()
            run(q)
            latencies.append((time.perf_counter() - t0) * 1000)
            if time.monotonic() > deadline:
                break
    return {**latency_stats(latencies), "matched": matched, "page_ids": page_ids}


def latency_stats(latencies_ms: list[float]) -> dict[str, Any]:
    """p50/p95/p99/mean in ms and requests per second of sequential calls."""
    if not latencies_ms:
        return {"n": 0}
    ordered = sorted(latencies_ms)
    return {
        "n": len(ordered),
        "p50_ms": percentile(ordered, 50),
        "p95_ms": percentile(ordered, 95),
        "p99_ms": percentile(ordered, 99),
        "mean_ms": statistics.fmean(ordered),
        "rps": 1000 * len(ordered) / sum(ordered),
    }


def percentile(ordered: list[float], q: float) -> float:
    """Nearest-rank percentile of sorted values."""
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


# -- HTTP paths --------------------------------------------------------------------------------------------------
def iso_window(query: Query, first_day: Any) -> str | None:
    """The week as an RFC 3339 interval (whole days, UTC)."""
    window = query.interval(first_day)
    if window is None:
        return None
    return f"{window[0].isoformat()}T00:00:00Z/{window[1].isoformat()}T23:59:59Z"


def path(target: str, collection: str, query: Query, first_day: Any, limit: int, hits: bool = False) -> str | None:
    """The items path for ``target`` (``ours``, ``postgresql``, ``sqlitegpkg``, ``ogr``), or None if unsupported."""
    params: list[tuple[str, str]] = [("bbox", ",".join(f"{v:g}" for v in query.bbox)), ("limit", str(limit))]
    window = iso_window(query, first_day)
    gpkg = target in ("sqlitegpkg", "ogr")
    if window is not None:
        if gpkg:  # neither GPKG provider filters on time: it would silently return the whole box
            return None
        params.append(("datetime", window))
    if query.kind == "cql":
        if gpkg:  # no CQL in pygeoapi's SQLiteGPKG and OGR providers
            return None
        params.append(("filter", CQL))
        if target == "ours":
            params.append(("filter-lang", "cql2-text"))
    elif query.kind == "equality":
        if target == "ours":
            params += [("filter", EQUALITY_CQL), ("filter-lang", "cql2-text")]
        else:
            params += list(EQUALITY)
    if hits:
        params.append(("resulttype", "hits"))
    return f"/collections/{collection}/items?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
