"""Pages read range of start days by range, and the capped count: both backends against a brute-force answer.

The store reads the start days in growing ranges and stops once the page is full, counting what follows only up
to a cap (:data:`app.events.store.base.COUNT_CAP`, lowered here so that small data crosses it). Every answer is
checked against Python over the same events: the page's ids in (date_start, id) order, numberMatched (exact, or
left out only above the cap) and whether more follow.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

import pytest
from pygeofilter.parsers.cql2_text import parse

from app.events.model import EventIn
from app.events.store.base import EventQuery

FIRST = date(2020, 9, 27)
DAYS = 45
CAP = 40


@dataclass(frozen=True)
class Row:
    """What the brute force needs of one event."""

    id: str
    lon: float
    lat: float
    start: date
    end: date
    event_type: str
    fatalities: int | None


TYPES = (("Battles", "Armed clash"), ("Explosions/Remote violence", "Shelling/artillery/missile attack"))


@pytest.fixture
def paged(service, admin, event_data):
    """300 seeded events, a third of them over several days, dense around one place; the count cap lowered."""
    rng = random.Random(20201110)
    rows = []
    for n in range(300):
        dense = rng.random() < 0.6
        lon = round(rng.gauss(46.75, 0.05) if dense else rng.uniform(46.0, 47.5), 4)
        lat = round(rng.gauss(39.8, 0.04) if dense else rng.uniform(39.2, 40.2), 4)
        start = FIRST + timedelta(days=rng.randrange(DAYS))
        end = start + timedelta(days=rng.choice((0, 0, 0, 1, 3, 9)))
        kind = rng.randrange(2)
        fatalities = rng.choice((None, 0, 2, 7, 12))
        rows.append(Row(f"ev-{n:04d}", lon, lat, start, end, TYPES[kind][0], fatalities))
    events = [
        EventIn.model_validate(
            event_data(
                0,
                id=r.id,
                lon=r.lon,
                lat=r.lat,
                date_start=r.start.isoformat(),
                date_end=r.end.isoformat(),
                date_precision=1 if r.start == r.end else 3,
                event_type=r.event_type,
                sub_event_type=TYPES[[t[0] for t in TYPES].index(r.event_type)][1],
                fatalities_best=r.fatalities,
            )
        )
        for r in rows
    ]
    service.write_batch(admin, events)
    service.store.count_cap = CAP
    return service, rows


def brute_force(rows, bbox=None, window=(None, None), battles_over=None):
    """The matches of a query, in the stores' order."""
    start, end = window
    found = [
        r
        for r in rows
        if (bbox is None or (bbox[0] <= r.lon <= bbox[2] and bbox[1] <= r.lat <= bbox[3]))
        and (start is None or r.end >= start)
        and (end is None or r.start <= end)
        and (battles_over is None or (r.event_type == "Battles" and (r.fatalities or 0) > battles_over))
    ]
    return sorted(found, key=lambda r: (r.start, r.id))


def check(service, rows, limit, offset, **selection):
    """One query against brute force: the page, numberMatched and `more`."""
    expected = brute_force(rows, **selection)
    cql = None
    if selection.get("battles_over") is not None:
        cql = parse(f"event_type = 'Battles' AND fatalities_best > {selection['battles_over']}")
    query = EventQuery(
        bbox=selection.get("bbox"), datetime=selection.get("window"), cql=cql, limit=limit, offset=offset
    )
    page = service.query(query)
    assert [f["id"] for f in page.features] == [r.id for r in expected[offset : offset + limit]], selection
    bound = max(CAP, offset + limit)
    if page.matched is None:
        assert len(expected) > bound, f"numberMatched left out for {len(expected)} matches ({selection})"
    else:
        assert page.matched == len(expected), selection
    assert page.more == (len(expected) > offset + len(page.features)), selection
    return page


def test_pages_and_counts_equal_brute_force(paged):
    service, rows = paged
    rng = random.Random(7)
    omitted = exact = 0
    for _ in range(60):
        west, south = rng.uniform(46.0, 47.2), rng.uniform(39.2, 40.0)
        bbox = (west, south, west + rng.choice((0.1, 0.3, 1.5)), south + rng.choice((0.1, 0.3, 1.0)))
        day = FIRST + timedelta(days=rng.randrange(-3, DAYS))
        window = rng.choice(((None, None), (day, day + timedelta(days=6)), (day, None), (None, day)))
        selection = {"bbox": rng.choice((bbox, None)), "window": window}
        if rng.random() < 0.3:
            selection["battles_over"] = rng.choice((0, 5))
        page = check(service, rows, rng.choice((1, 5, 25)), rng.choice((0, 0, 3, 30)), **selection)
        omitted += page.matched is None
        exact += page.matched is not None
    assert omitted >= 5 and exact >= 20  # both sides of the cap were exercised


def test_events_begun_before_the_window_come_first(paged):
    service, rows = paged
    window = (date(2020, 10, 10), date(2020, 10, 12))
    page = check(service, rows, 50, 0, window=window)
    first = page.features[0]["properties"]
    assert first["date_start"] < "2020-10-10" <= first["date_end"]


def test_walking_every_page_yields_every_match_once(paged):
    service, rows = paged
    selection = {"bbox": (46.6, 39.7, 46.9, 39.9), "window": (date(2020, 10, 1), None)}
    seen, offset = [], 0
    while True:
        page = check(service, rows, 17, offset, **selection)
        seen += [f["id"] for f in page.features]
        if not page.more:
            break
        offset += 17
    assert seen == [r.id for r in brute_force(rows, **selection)]
    assert len(seen) > CAP  # the walk went past the count cap


def test_a_page_as_large_as_the_matches_counts_them_all(paged):
    service, rows = paged
    everything = check(service, rows, 1000, 0)
    assert everything.matched == len(rows) and not everything.more
    capped = service.query(EventQuery(limit=1))
    assert (capped.matched, capped.more) == (None, True)
    for window in ((None, None), (date(2020, 10, 10), date(2020, 10, 20))):
        exact = service.query(EventQuery(datetime=window, limit=1, exact_count=True))
        assert exact.matched == len(brute_force(rows, window=window)) > CAP
    past_the_end = check(service, rows, 10, len(rows) + 5)
    assert (past_the_end.features, past_the_end.matched, past_the_end.more) == ([], len(rows), False)


def test_keyset_paging_reads_on_from_the_last_event(paged):
    service, rows = paged
    selection = {"bbox": (46.0, 39.2, 47.5, 40.2), "window": (date(2020, 10, 5), date(2020, 10, 30))}
    expected = [r.id for r in brute_force(rows, **selection)]
    seen, after = [], None
    while True:
        page = service.query(EventQuery(bbox=selection["bbox"], datetime=selection["window"], limit=13, after=after))
        follows = expected[len(seen) :]
        assert [f["id"] for f in page.features] == follows[:13]
        assert page.matched == len(follows) if page.matched is not None else len(follows) > CAP
        assert page.more == (len(follows) > 13)
        seen += [f["id"] for f in page.features]
        if not page.more:
            break
        last = page.features[-1]
        after = (date.fromisoformat(last["properties"]["date_start"]), last["id"])
    assert seen == expected and len(seen) > CAP


def test_matching_features_walks_every_event_once(paged, monkeypatch):
    from app.events import adapters as event_adapters

    service, rows = paged
    monkeypatch.setattr(event_adapters, "PAGE_SIZE", 7)
    found = [f["id"] for f in event_adapters.matching_features(service, None, date(2020, 10, 1), None)]
    assert found == [r.id for r in brute_force(rows, window=(date(2020, 10, 1), None))]


def test_box_and_days_are_answered_by_the_space_time_index(paged, backend):
    """The PostGIS expression must match migration 0004's index exactly, or the planner silently scans."""
    from app.events.cql import Params
    from app.events.store.checks import checked_interval

    service, _ = paged
    store = service.store
    query = EventQuery(bbox=(46.6, 39.7, 46.9, 39.9), datetime=(date(2020, 10, 1), date(2020, 10, 7)))
    params = Params(store.dialect.placeholder)
    starts = (date(2020, 10, 1), date(2020, 10, 2))
    joins, where = store._where(query, checked_interval(query.datetime), starts, params)
    with store._snapshot() as cur:
        if backend == "postgis":
            cur.execute("SET LOCAL enable_seqscan = off")  # 300 rows: make any usable index win over a scan
        explain = "EXPLAIN" if backend == "postgis" else "EXPLAIN QUERY PLAN"
        cur.execute(f"{explain} SELECT e.id FROM events e {joins} WHERE {where}", params.values)
        plan = " ".join(str(row) for row in cur.fetchall())
    assert ("events_space_time" if backend == "postgis" else "SCAN r VIRTUAL TABLE INDEX") in plan, plan
