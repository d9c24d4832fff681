"""Synthetic reported events for the event-store benchmark: generation, row encoding and bulk loading.

Everything is deterministic for a given seed and count: the same call produces the same events, the same rows
and the same files. Used by ``bench/events_vs_pygeoapi.py``.

The events (numpy, vectorised):

- places: 80 % around fifteen places of the 2020 war (Gaussian clusters; Fuzuli, Jabrayil and Stepanakert the
  densest), 20 % spread uniformly over lon 44.5-48.9, lat 38.3-41.3; coordinates rounded to 1e-5 degrees;
- days: 27 Sep - 10 Nov 2020, weighted by a rough intensity curve (early offensive, Fuzuli/Jabrayil mid-October,
  Shusha in early November, the ceasefire on 10 November); every event is a single day (``date_end ==
  date_start``), so pygeoapi's single ``time_field`` and our interval overlap select the same events;
- ACLED types and sub-types, actors, the claiming side, a verification status, and UCDP-style fatality ranges
  (``low <= best <= high``; none for strategic developments), one source per event.

Rows for our stores go in through a *fast path* (``executemany`` for SQLite, ``COPY`` for PostgreSQL) that writes
exactly what ``EventStore.transaction().insert(event)`` would: :func:`check_rows` proves it on a sample by encoding
pydantic :class:`~app.events.model.Event` objects with the store's own transaction encoder and comparing.
The first ``VIA_STORE`` events are written through the store's own transaction and insert, unchanged.
What the fast path skips: pydantic validation per event and the audit rows of the service's batch import
(neither changes the ``events`` table the queries read).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyogrio
import shapely

from app.events.model import Event
from app.events.store.base import COLUMNS
from app.events.store.dialect import json_text
from app.events.store.interface import EventStore
from app.events.store.sql import _SqlTx
from app.events.zones import ZONE_LAYERS

Progress = Callable[[int], None]

REGION = (44.5, 38.3, 48.9, 41.3)  # west, south, east, north
FIRST_DAY = date(2020, 9, 27)
DAYS = 45  # 27 Sep .. 10 Nov 2020 inclusive
ACTOR = "bench-import"
VIA_STORE = 1_000
GENERATOR_VERSION = 1

# name, lon, lat, sigma (degrees), weight
HOTSPOTS: tuple[tuple[str, float, float, float, float], ...] = (
    ("Fuzuli", 47.145, 39.600, 0.07, 0.17),
    ("Jabrayil", 47.027, 39.399, 0.07, 0.15),
    ("Stepanakert", 46.752, 39.815, 0.05, 0.13),
    ("Hadrut", 46.928, 39.520, 0.05, 0.09),
    ("Shusha", 46.750, 39.758, 0.03, 0.07),
    ("Martakert", 46.797, 40.213, 0.06, 0.06),
    ("Aghdam", 46.928, 39.991, 0.05, 0.05),
    ("Tartar", 46.929, 40.342, 0.05, 0.05),
    ("Zangilan", 46.654, 39.085, 0.05, 0.04),
    ("Qubadli", 46.580, 39.344, 0.05, 0.04),
    ("Lachin", 46.549, 39.640, 0.05, 0.03),
    ("Horadiz", 47.347, 39.451, 0.04, 0.03),
    ("Kalbajar", 46.038, 40.104, 0.06, 0.02),
    ("Ganja", 46.361, 40.683, 0.03, 0.02),
    ("Barda", 47.126, 40.374, 0.03, 0.02),
)
CLUSTERED_SHARE = 0.8

# (event type, sub-event type, share)
TYPES: tuple[tuple[str, str, float], ...] = (
    ("Battles", "Armed clash", 0.40),
    ("Battles", "Government regains territory", 0.04),
    ("Explosions/Remote violence", "Shelling/artillery/missile attack", 0.32),
    ("Explosions/Remote violence", "Air/drone strike", 0.13),
    ("Explosions/Remote violence", "Remote explosive/landmine/IED", 0.02),
    ("Violence against civilians", "Attack", 0.03),
    ("Strategic developments", "Headquarters or base established", 0.02),
    ("Strategic developments", "Non-violent transfer of territory", 0.01),
    ("Strategic developments", "Looting/property destruction", 0.02),
    ("Strategic developments", "Other", 0.02),
)
VERIFICATION: tuple[tuple[str, float], ...] = (
    ("reported", 0.60),
    ("corroborated", 0.22),
    ("verified", 0.10),
    ("disputed", 0.08),
)
CLAIMANTS: tuple[tuple[str, float], ...] = (
    ("Ministry of Defence of Azerbaijan", 0.40),
    ("Ministry of Defence of Armenia", 0.30),
    ("Artsakh Defence Army", 0.15),
    ("Human Rights Defender of Artsakh", 0.05),
    ("Prosecutor General's Office of Azerbaijan", 0.05),
    ("Local authorities", 0.05),
)
AZ = "Military Forces of Azerbaijan (2003-)"
AM = "Military Forces of Armenia (2018-)"
ARTSAKH = "Artsakh Defence Army"
CIVILIANS = "Civilians (Azerbaijan)"
ACTOR_SETS: tuple[tuple[str, ...], ...] = ((AZ, AM), (AZ, ARTSAKH), (AM, AZ), (ARTSAKH, AZ), (AZ, CIVILIANS), (AZ,))


@dataclass(frozen=True)
class Events:
    """Column arrays of generated events, sorted by (day, index) so ids run in date order."""

    lon: np.ndarray
    lat: np.ndarray
    day: np.ndarray  # days since FIRST_DAY
    date_precision: np.ndarray
    location_precision: np.ndarray
    hotspot: np.ndarray  # index into HOTSPOTS, -1 for the uniform background
    type_idx: np.ndarray
    verification_idx: np.ndarray
    claimant_idx: np.ndarray
    actors_idx: np.ndarray
    fatalities: np.ndarray  # (n, 3) low, best, high; -1 = null
    zones: list[str]  # JSON text per event

    def __len__(self) -> int:
        return len(self.lon)

    def iso_day(self, i: int) -> str:
        """The event's date as ISO text."""
        return (FIRST_DAY + timedelta(days=int(self.day[i]))).isoformat()


def day_weights() -> np.ndarray:
    """A rough intensity per day of the war (relative; normalised)."""
    days = np.arange(DAYS, dtype=float)
    weights = 1.0 + 0.6 * np.exp(-(((days - 7) / 4) ** 2))  # first offensive, Jabrayil (4 Oct)
    weights += 0.8 * np.exp(-(((days - 20) / 4) ** 2))  # Fuzuli, Hadrut (mid-October)
    weights += 1.0 * np.exp(-(((days - 40) / 3) ** 2))  # Shusha (8 Nov)
    weights[-1] = 0.3  # the ceasefire on 10 November
    return weights / weights.sum()


def _pick(rng: np.random.Generator, shares: Sequence[float], n: int) -> np.ndarray:
    p = np.asarray(shares, dtype=float)
    return rng.choice(len(p), size=n, p=p / p.sum()).astype(np.int16)


def _positions(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    west, south, east, north = REGION
    clustered = rng.random(n) < CLUSTERED_SHARE
    hotspot = np.where(clustered, _pick(rng, [h[4] for h in HOTSPOTS], n), -1).astype(np.int16)
    centre = np.array([(h[1], h[2], h[3]) for h in HOTSPOTS])
    idx = np.maximum(hotspot, 0)
    lon = np.where(clustered, centre[idx, 0] + rng.normal(size=n) * centre[idx, 2] * 1.3, rng.uniform(west, east, n))
    lat = np.where(clustered, centre[idx, 1] + rng.normal(size=n) * centre[idx, 2], rng.uniform(south, north, n))
    lon = np.round(np.clip(lon, west, east), 5)
    lat = np.round(np.clip(lat, south, north), 5)
    return lon, lat, hotspot


def _fatalities(rng: np.random.Generator, type_idx: np.ndarray) -> np.ndarray:
    n = len(type_idx)
    event_type = np.array([t[0] for t in TYPES])[type_idx]
    p = np.where(event_type == "Battles", 0.15, np.where(event_type == "Explosions/Remote violence", 0.35, 0.5))
    best = rng.negative_binomial(1, p)
    low = np.floor(best * rng.uniform(0.4, 1.0, n)).astype(np.int64)
    high = best + np.ceil(best * rng.uniform(0.0, 1.5, n)).astype(np.int64)
    out = np.stack([low, best, high], axis=1)
    out[event_type == "Strategic developments"] = -1
    return out


def generate(n: int, seed: int, zone_labels: Callable[[np.ndarray, np.ndarray], list[str]]) -> Events:
    """``n`` events from ``seed``; ``zone_labels(lon, lat)`` gives each event's zones as JSON text."""
    rng = np.random.default_rng(seed)
    lon, lat, hotspot = _positions(rng, n)
    day = rng.choice(DAYS, size=n, p=day_weights()).astype(np.int16)
    type_idx = _pick(rng, [t[2] for t in TYPES], n)
    order = np.lexsort((np.arange(n), day))
    cols = {
        "lon": lon,
        "lat": lat,
        "day": day,
        "date_precision": _pick(rng, [0.85, 0.15], n) + 1,
        "location_precision": _pick(rng, [0.5, 0.35, 0.15], n) + 1,
        "hotspot": hotspot,
        "type_idx": type_idx,
        "verification_idx": _pick(rng, [v[1] for v in VERIFICATION], n),
        "claimant_idx": _pick(rng, [c[1] for c in CLAIMANTS], n),
        "actors_idx": _pick(rng, [0.35, 0.25, 0.15, 0.1, 0.05, 0.1], n),
        "fatalities": _fatalities(rng, type_idx),
    }
    cols = {k: v[order] for k, v in cols.items()}
    return Events(**cols, zones=zone_labels(cols["lon"], cols["lat"]))


# -- zones -------------------------------------------------------------------------------------------------------
def zone_labeller(layers_dir: Path) -> Callable[[np.ndarray, np.ndarray], list[str]]:
    """Vectorised ``ZoneIndex.zones_of`` over the same layers (checked against it in :func:`check_rows`)."""
    manifest = json.loads((layers_dir / "manifest.json").read_text(encoding="utf-8"))["layers"]
    labels: list[str] = []
    geoms: list[Any] = []
    for layer_id in ZONE_LAYERS:
        if layer_id not in manifest:
            continue
        frame = pyogrio.read_dataframe(layers_dir / manifest[layer_id]["files"]["gpkg"], layer=layer_id)
        labels += [f"{layer_id}:{fid}" for fid in frame["id"]]
        geoms += list(frame.geometry)
    for geom in geoms:
        shapely.prepare(geom)

    def label(lon: np.ndarray, lat: np.ndarray) -> list[str]:
        per_point: list[list[str]] = [[] for _ in range(len(lon))]
        for text, geom in zip(labels, geoms, strict=True):
            west, south, east, north = geom.bounds
            candidates = np.flatnonzero((lon >= west) & (lon <= east) & (lat >= south) & (lat <= north))
            inside = candidates[shapely.intersects_xy(geom, lon[candidates], lat[candidates])]
            for p in inside.tolist():
                per_point[p].append(text)
        cache: dict[tuple[str, ...], str] = {}
        out = []
        for found in per_point:
            key = tuple(sorted(found))
            encoded = cache.get(key)
            if encoded is None:
                encoded = cache[key] = json_text(list(key)) or "[]"
            out.append(encoded)
        return out

    return label


# -- rows ----------------------------------------------------------------------------------------------------------
def _sources_json(claimant: str, iso: str) -> str:
    source = {
        "publisher": claimant,
        "title": f"{claimant}: operational update, {iso}",
        "published": iso,
        "url": None,
        "title_is_descriptive": True,
    }
    return json_text([source]) or "[]"


def _stamp(iso: str) -> str:
    return f"{(date.fromisoformat(iso) + timedelta(days=1)).isoformat()}T09:00:00Z"


def event_id(i: int) -> str:
    """The id of the ``i``-th generated event."""
    return f"bench-{i:07d}"


def iter_rows(events: Events, start: int = 0, stop: int | None = None) -> Iterator[tuple[Any, ...]]:
    """Rows in ``COLUMNS`` order, as the SQLite store writes them (JSON columns as compact JSON text)."""
    stop = len(events) if stop is None else stop
    actors_json = [json_text(list(a)) for a in ACTOR_SETS]
    sources_cache: dict[tuple[int, int], str] = {}
    days = [(FIRST_DAY + timedelta(days=d)).isoformat() for d in range(DAYS)]
    stamps = [_stamp(d) for d in days]
    part = slice(start, stop)
    cols = [
        getattr(events, name)[part].tolist()
        for name in ("lon", "lat", "day", "date_precision", "location_precision", "hotspot", "type_idx")
        + ("verification_idx", "claimant_idx", "actors_idx", "fatalities")
    ]
    lon, lat, day, dprec, lprec, hot, typ, ver, cla, act, fat = cols
    zones = events.zones[part]
    for i in range(stop - start):
        iso, claimant = days[day[i]], CLAIMANTS[cla[i]][0]
        sources = sources_cache.get((cla[i], day[i]))
        if sources is None:
            sources = sources_cache[(cla[i], day[i])] = _sources_json(claimant, iso)
        low, best, high = (None if v < 0 else v for v in fat[i])
        place = HOTSPOTS[hot[i]][0] if hot[i] >= 0 else None
        # fmt: off
        yield (
            event_id(start + i), iso, iso, dprec[i], lon[i], lat[i], lprec[i], place, None,
            "Azerbaijan" if place else None, None, None, TYPES[typ[i]][0], TYPES[typ[i]][1], actors_json[act[i]],
            claimant, VERIFICATION[ver[i]][0], best, low, high, sources, None, None, zones[i],
            stamps[day[i]], stamps[day[i]], ACTOR, ACTOR, 1,
        )
        # fmt: on


def event_of(row: Sequence[Any]) -> Event:
    """The pydantic Event a row stands for (validated the way the store validates on read)."""
    data = dict(zip(COLUMNS, row, strict=True))
    for column in ("actors", "sources", "zones"):
        data[column] = json.loads(data[column])
    return Event.model_validate(data)


def check_rows(events: Events, sample: Sequence[int], layers_dir: Path) -> dict[str, Any]:
    """Prove the fast path on a sample: each row equals the store's own encoding of the validated Event.

    ``_SqlTx._values`` is what ``EventStore.transaction().insert(event)`` binds; both dialects are checked (the
    PostGIS one wraps JSON columns in ``Jsonb``, compared by value). Zones are compared with ``ZoneIndex``.
    """
    from app.events.store.postgis import PostgisDialect
    from app.events.store.sqlite import SqliteDialect
    from app.events.zones import ZoneIndex

    index = ZoneIndex.from_layers_dir(layers_dir)
    sqlite_tx, pg_tx = _SqlTx(None, SqliteDialect()), _SqlTx(None, PostgisDialect())
    problems = []
    for i in sample:
        row = next(iter_rows(events, i, i + 1))
        event = event_of(row)
        if list(row) != sqlite_tx._values(event):
            problems.append(f"{row[0]}: SQLite encoding differs")
        pg = [getattr(v, "obj", v) for v in pg_tx._values(event)]
        ours = [json.loads(v) if c in ("actors", "sources", "zones") else v for c, v in zip(COLUMNS, row, strict=True)]
        if pg != ours:
            problems.append(f"{row[0]}: PostGIS encoding differs")
        if json.loads(row[COLUMNS.index("zones")]) != index.zones_of(row[4], row[5]):
            problems.append(f"{row[0]}: zones differ from ZoneIndex.zones_of")
    if problems:
        raise SystemExit("fast-path rows differ from the store's encoding:\n  " + "\n  ".join(problems[:20]))
    return {"checked": len(sample), "problems": 0}


# -- loading: our stores -----------------------------------------------------------------------------------------
def insert_via_store(store: EventStore, events: Events, count: int) -> None:
    """The first ``count`` events through the store's own write path (one transaction, ``tx.insert``)."""
    with store.transaction() as tx:
        for row in iter_rows(events, 0, count):
            tx.insert(event_of(row))


def load_sqlite(path: Path, events: Events, progress: Progress, chunk: int = 50_000) -> None:
    """The remaining events with ``executemany`` into the migrated store file, one transaction per chunk."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA cache_size = -1000000")
        sql = f"INSERT INTO events ({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
        for start in range(VIA_STORE, len(events), chunk):
            stop = min(start + chunk, len(events))
            conn.execute("BEGIN IMMEDIATE")
            conn.executemany(sql, iter_rows(events, start, stop))
            conn.execute("COMMIT")
            progress(stop - start)
        conn.execute("ANALYZE")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def load_postgis(url: str, events: Events, progress: Progress, chunk: int = 50_000) -> None:
    """The remaining events with ``COPY`` into the migrated ``events`` table (``geom`` is generated)."""
    import psycopg

    with psycopg.connect(url, autocommit=False) as conn:
        for start in range(VIA_STORE, len(events), chunk):
            stop = min(start + chunk, len(events))
            with conn.cursor() as cur, cur.copy(f"COPY events ({', '.join(COLUMNS)}) FROM STDIN") as copy:
                for row in iter_rows(events, start, stop):
                    copy.write_row(row)
            conn.commit()
            progress(stop - start)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE events")


# -- loading: pygeoapi's copies ----------------------------------------------------------------------------------
PYGEOAPI_COLUMNS = tuple(c for c in COLUMNS if c not in ("lon", "lat", "source_record"))
PYGEOAPI_TABLE = "pygeoapi_events"


def load_pygeoapi_postgis(url: str) -> None:
    """``pygeoapi_events``: the same rows copied from ``events`` (point geometry, GiST, date index, primary key)."""
    import psycopg

    columns = ", ".join(PYGEOAPI_COLUMNS)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {PYGEOAPI_TABLE}")
        conn.execute(
            f"CREATE TABLE {PYGEOAPI_TABLE} AS SELECT {columns}, geom::geometry(Point, 4326) AS geom "
            "FROM events ORDER BY date_start, id"
        )
        conn.execute(f"ALTER TABLE {PYGEOAPI_TABLE} ADD PRIMARY KEY (id)")
        conn.execute(f"CREATE INDEX {PYGEOAPI_TABLE}_geom ON {PYGEOAPI_TABLE} USING gist (geom)")
        conn.execute(f"CREATE INDEX {PYGEOAPI_TABLE}_date ON {PYGEOAPI_TABLE} (date_start)")
        conn.execute(f"VACUUM ANALYZE {PYGEOAPI_TABLE}")


def write_gpkg(path: Path, events: Events, progress: Progress, chunk: int = 200_000) -> None:
    """A GeoPackage table ``events`` with an R-tree spatial index, written with pyogrio (same columns as PostGIS)."""
    import pandas as pd

    path.unlink(missing_ok=True)
    keep = [COLUMNS.index(c) for c in PYGEOAPI_COLUMNS]
    for start in range(0, len(events), chunk):
        stop = min(start + chunk, len(events))
        rows = [[row[k] for k in keep] for row in iter_rows(events, start, stop)]
        frame = pd.DataFrame(rows, columns=list(PYGEOAPI_COLUMNS))
        for column in ("date_precision", "location_precision", "revision"):
            frame[column] = frame[column].astype("int32")
        for column in ("geonameid", "fatalities_best", "fatalities_low", "fatalities_high"):
            frame[column] = frame[column].astype("Int64")
        geometry = shapely.points(events.lon[start:stop], events.lat[start:stop])
        pyogrio.write_dataframe(
            _geo_frame(frame, geometry),
            path,
            layer="events",
            driver="GPKG",
            append=start > 0,
            layer_options={"SPATIAL_INDEX": "YES"},
        )
        progress(stop - start)


def _geo_frame(frame: Any, geometry: np.ndarray) -> Any:
    import geopandas as gpd

    return gpd.GeoDataFrame(frame, geometry=gpd.GeoSeries(geometry, crs="EPSG:4326"))


def now_utc() -> str:
    """A UTC timestamp for file names."""
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
