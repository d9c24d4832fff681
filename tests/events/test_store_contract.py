"""The store contract, run against both backends (SQLite and PostGIS) through the service."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from pygeofilter import ast
from pygeofilter.parsers.cql2_json import parse as parse_json
from pygeofilter.parsers.cql2_text import parse

from app.events.errors import Conflict, NotFound, ValidationError
from app.events.model import EventIn, to_feature
from app.events.store.base import EventPage, EventQuery


@pytest.fixture
def grid(service, admin, event_data):
    """Twelve events: lon 46.05..46.6 step 0.05, one a day from 2020-10-01, fatalities = n."""
    for n in range(12):
        day = (date(2020, 10, 1) + timedelta(days=n)).isoformat()
        service.create(
            admin,
            event_data(
                n,
                lon=round(46.05 + 0.05 * n, 2),
                lat=39.5,
                date_start=day,
                date_end=day,
                fatalities_best=n,
                place_name=f"Place_{n}",
                verification="corroborated" if n % 3 == 0 else "reported",
            ),
        )
    return service


def ids(page):
    return [f["id"] for f in page.features]


def test_create_then_get_round_trips_every_field(service, admin, event_data):
    data = event_data(1, fatalities_best=3, fatalities_low=2, fatalities_high=5, actors=["A", "B"])
    created = service.create(admin, data)
    stored = service.get("test-0001")
    assert stored == created
    expected = {k: v for k, v in data.items() if k != "id"} | {"country": None, "admin1": None, "admin2": None}
    source = {**data["sources"][0], "url": None, "title_is_descriptive": False, "denial_by": None}
    expected |= {"source_record": None, "sources": [source]}
    assert stored.fields() == expected
    assert (stored.revision, stored.created_by, stored.updated_by) == (1, "Ada Admin", "Ada Admin")


def test_zones_are_computed_from_the_location(service, admin, event_data):
    created = service.create(admin, event_data(1, lon=46.25, lat=39.5))
    assert created.zones == ["ceasefire-1994-area:all", "seven-districts:west"]
    moved = service.update(admin, "test-0001", {"lon": 46.75})
    assert moved.zones == ["ceasefire-1994-area:all", "seven-districts:east"]
    outside = service.update(admin, "test-0001", {"lon": 44.0})
    assert outside.zones == []


def test_create_rejects_a_client_supplied_zone(service, admin, event_data):
    with pytest.raises(ValidationError, match="zones"):
        service.create(admin, event_data(1, zones=["seven-districts:west"]))


def test_create_without_id_assigns_a_stable_one(service, admin, event_data):
    data = event_data(1)
    del data["id"]
    created = service.create(admin, data)
    assert created.id.startswith("czm-")
    assert service.get(created.id).id == created.id


def test_duplicate_id_is_a_conflict(service, admin, event_data):
    service.create(admin, event_data(1))
    with pytest.raises(Conflict, match="test-0001"):
        service.create(admin, event_data(1))


def test_get_unknown_is_not_found(service):
    with pytest.raises(NotFound):
        service.get("nope")


def test_query_features_equal_the_stored_events(grid):
    page = grid.query(EventQuery(limit=100))
    assert (page.matched, page.more) == (12, False)
    for feature in page.features:
        assert feature == to_feature(grid.get(feature["id"]))


def test_query_orders_by_date_and_pages(grid):
    first, second, last = (grid.query(EventQuery(limit=5, offset=offset)) for offset in (0, 5, 10))
    assert first.matched == last.matched == 12
    assert (first.more, second.more, last.more) == (True, True, False)
    assert ids(first) + ids(second) + ids(last) == [f"test-{n:04d}" for n in range(12)]
    beyond = grid.query(EventQuery(limit=5, offset=20))
    assert (beyond.features, beyond.matched, beyond.more) == ([], 12, False)


def test_query_bbox(grid):
    # lon 46.05 + 0.05n within [46.12, 46.33] -> n = 2, 3, 4, 5
    assert ids(grid.query(EventQuery(bbox=(46.12, 39.4, 46.33, 39.6), limit=50))) == [
        "test-0002",
        "test-0003",
        "test-0004",
        "test-0005",
    ]
    assert grid.query(EventQuery(bbox=(46.12, 39.6, 46.33, 39.7))).matched == 0


def test_query_bbox_across_the_antimeridian_excludes_the_region(grid):
    assert grid.query(EventQuery(bbox=(170.0, -90.0, -170.0, 90.0))).matched == 0
    assert grid.query(EventQuery(bbox=(40.0, -90.0, 39.0, 90.0))).matched == 12


def test_query_datetime_overlap_with_open_ends(grid, admin, event_data):
    grid.create(admin, event_data(99, date_start="2020-09-20", date_end="2020-10-02", lon=10.0))
    window = grid.query(EventQuery(datetime=(date(2020, 10, 2), date(2020, 10, 3)), limit=50))
    assert ids(window) == ["test-0099", "test-0001", "test-0002"]
    assert grid.query(EventQuery(datetime=(None, date(2020, 9, 30)))).matched == 1
    assert grid.query(EventQuery(datetime=(datetime(2020, 10, 11, 18), None))).matched == 2


def test_query_equality_filters_coerce_strings(grid):
    assert grid.query(EventQuery(filters={"verification": "corroborated"})).matched == 4
    assert ids(grid.query(EventQuery(filters={"fatalities_best": "7"}))) == ["test-0007"]
    assert grid.query(EventQuery(filters={"date_start": "2020-10-03"})).matched == 1


def test_query_zone_filter_matches_label_or_layer(grid):
    # lon < 46.5 -> seven-districts:west (n = 0..8 give 46.05..46.45); 46.5 itself touches both squares
    west = grid.query(EventQuery(filters={"zones": "seven-districts:west"}, limit=50)).matched
    layer = grid.query(EventQuery(filters={"zones": "seven-districts"}, limit=50)).matched
    assert west == 10
    assert layer == 12
    assert grid.query(EventQuery(filters={"zones": "inn"})).matched == 0


@pytest.mark.parametrize(
    ("cql", "expected"),
    [
        ("fatalities_best >= 10", ["test-0010", "test-0011"]),
        ("fatalities_best BETWEEN 2 AND 3 AND verification = 'corroborated'", ["test-0003"]),
        ("fatalities_best IN (1, 5) OR place_name = 'Place_9'", ["test-0001", "test-0005", "test-0009"]),
        ("place_name LIKE 'Place\\_1%'", ["test-0001", "test-0010", "test-0011"]),
        ("CASEI(place_name) LIKE CASEI('PLACE\\_1%')", ["test-0001", "test-0010", "test-0011"]),
        ("NOT (fatalities_best < 11)", ["test-0011"]),
        ("notes IS NULL", []),
        ("date_start > DATE('2020-10-10')", ["test-0010", "test-0011"]),
        ("date_start T_BEFORE DATE('2020-10-02')", ["test-0000"]),
        ("fatalities_best + 1 = 3", ["test-0002"]),
        (
            "S_INTERSECTS(geometry, POLYGON((46.08 39, 46.22 39, 46.22 40, 46.08 40, 46.08 39)))",
            ["test-0001", "test-0002", "test-0003"],
        ),
        ("S_WITHIN(geometry, BBOX(46.5, 39, 47, 40))", ["test-0010", "test-0011"]),  # 46.5 is on the edge
        ("BBOX(geometry, 46.0, 39.0, 46.1, 40.0)", ["test-0000", "test-0001"]),
    ],
)
def test_query_cql2_text(grid, cql, expected):
    assert ids(grid.query(EventQuery(cql=parse(cql), limit=100))) == expected


def test_query_cql2_json_disjoint(grid):
    box = {"type": "Polygon", "coordinates": [[[46.0, 39.0], [46.42, 39.0], [46.42, 40.0], [46.0, 40.0], [46.0, 39.0]]]}
    cql = parse_json({"op": "s_disjoint", "args": [{"property": "geometry"}, box]})
    assert ids(grid.query(EventQuery(cql=cql, limit=100))) == ["test-0008", "test-0009", "test-0010", "test-0011"]


def test_query_cql_values_are_bound_not_interpolated(grid):
    sneaky = ast.Equal(ast.Attribute("place_name"), "x' OR '1'='1")
    assert grid.query(EventQuery(cql=sneaky)).matched == 0
    assert grid.query(EventQuery(filters={"place_name": "x' OR '1'='1"})).matched == 0


@pytest.mark.parametrize(
    ("query", "message"),
    [
        (EventQuery(cql=parse("colour = 'red'")), "unknown queryable 'colour'"),
        (EventQuery(filters={"colour": "red"}), "colour: unknown filter"),
        (EventQuery(filters={"fatalities_best": "many"}), "fatalities_best: 'many' is not a valid integer"),
        (EventQuery(bbox=(10.0, 50.0, 20.0, 40.0)), "bbox"),
        (EventQuery(bbox=(0.0, 0.0, 1.0)), "bbox: needs 4 numbers"),  # type: ignore[arg-type]
        (EventQuery(bbox=(0.0, 0.0, float("nan"), 1.0)), "bbox"),
        (EventQuery(limit=0), "limit"),
        (EventQuery(limit=10**9), "limit"),
        (EventQuery(offset=-1), "offset"),
        (EventQuery(datetime=(date(2020, 10, 5), date(2020, 10, 1))), "datetime"),
        (EventQuery(cql=parse("S_INTERSECTS(geometry, POLYGON((0 0, 1 1, 1 0, 0 1, 0 0)))")), "invalid geometry"),
        (EventQuery(cql=parse("geometry = 3")), "spatial"),
    ],
)
def test_bad_queries_raise_validation_errors_naming_the_problem(grid, query, message):
    with pytest.raises(ValidationError, match=message):
        grid.query(query)


def test_replace_update_and_revision_conflicts(service, admin, event_data, clock):
    service.create(admin, event_data(1))
    clock.now += timedelta(hours=1)
    new = event_data(1, notes="replaced", place_name=None)
    replaced = service.replace(admin, "test-0001", new, expected_revision=1)
    assert (replaced.revision, replaced.notes, replaced.place_name) == (2, "replaced", None)
    assert replaced.created_at < replaced.updated_at
    with pytest.raises(Conflict, match="revision"):
        service.update(admin, "test-0001", {"notes": "stale"}, expected_revision=1)
    updated = service.update(admin, "test-0001", {"fatalities_best": 4}, expected_revision=2)
    assert (updated.revision, updated.fatalities_best, updated.notes) == (3, 4, "replaced")


def test_replace_with_another_id_is_rejected(service, admin, event_data):
    service.create(admin, event_data(1))
    with pytest.raises(ValidationError, match="id"):
        service.replace(admin, "test-0001", event_data(2))


def test_update_rejects_unknown_and_server_fields(service, admin, event_data):
    service.create(admin, event_data(1))
    with pytest.raises(ValidationError) as info:
        service.update(admin, "test-0001", {"colour": "red", "revision": 9, "zones": []})
    assert {p.field for p in info.value.problems} == {"colour", "revision", "zones"}


def test_update_that_breaks_the_model_changes_nothing(service, admin, event_data):
    service.create(admin, event_data(1))
    with pytest.raises(ValidationError, match="date_end"):
        service.update(admin, "test-0001", {"date_start": "2020-10-09"})
    assert service.get("test-0001").revision == 1


def test_writes_to_unknown_events_are_not_found(service, admin, event_data):
    with pytest.raises(NotFound):
        service.replace(admin, "nope", event_data(1, id=None))
    with pytest.raises(NotFound):
        service.update(admin, "nope", {"notes": "x"})
    with pytest.raises(NotFound):
        service.retract(admin, "nope")


def test_retraction_keeps_the_record(service, admin, event_data):
    service.create(admin, event_data(1))
    retracted = service.retract(admin, "test-0001", reason="photo was from 2016")
    assert retracted.verification == "retracted"
    assert "photo was from 2016" in retracted.notes
    assert service.get("test-0001").verification == "retracted"
    assert service.query(EventQuery(filters={"verification": "retracted"})).matched == 1
    with pytest.raises(Conflict, match="already retracted"):
        service.retract(admin, "test-0001")


def test_retracted_can_only_be_set_by_a_retraction(service, admin, event_data):
    with pytest.raises(ValidationError, match="verification"):
        service.create(admin, event_data(1, verification="retracted"))
    service.create(admin, event_data(1))
    with pytest.raises(ValidationError, match="verification"):
        service.update(admin, "test-0001", {"verification": "retracted"})


def test_audit_trail_records_who_when_what(service, admin, editor, event_data, clock):
    service.create(editor, event_data(1))
    clock.now += timedelta(minutes=5)
    service.update(editor, "test-0001", {"verification": "corroborated"})
    clock.now += timedelta(minutes=5)
    service.retract(admin, "test-0001", reason="duplicate")
    trail = service.audit("test-0001")
    assert [(e.action, e.actor, e.role) for e in trail] == [
        ("create", "Eddie Editor", "editor"),
        ("update", "Eddie Editor", "editor"),
        ("retract", "Ada Admin", "admin"),
    ]
    assert [e.at for e in trail] == sorted(e.at for e in trail) and trail[0].at == trail[1].at - timedelta(minutes=5)
    assert trail[0].before is None and trail[0].after["verification"] == "reported"
    assert (trail[1].before["verification"], trail[1].after["verification"]) == ("reported", "corroborated")
    assert trail[2].after["verification"] == "retracted"


def test_audit_of_unknown_event_is_not_found(service):
    with pytest.raises(NotFound):
        service.audit("nope")


def test_an_acknowledged_write_survives_close_and_reopen(open_backend_store, zones, admin, event_data):
    from app.events.service import EventService

    first = EventService(open_backend_store(), zones)
    created = first.create(admin, event_data(1))
    first.update(admin, "test-0001", {"notes": "second write"})
    first.store.close()
    reopened = EventService(open_backend_store(), zones)
    stored = reopened.get("test-0001")
    assert (stored.notes, stored.revision, stored.created_at) == ("second write", 2, created.created_at)
    assert len(reopened.audit("test-0001")) == 2


def test_failed_transaction_writes_nothing(store, service, admin, event_data):
    with pytest.raises(RuntimeError), store.transaction() as tx:
        tx.insert(service._stamp("test-0001", EventIn(**event_data(1)), admin, None))
        tx.insert(service._stamp("test-0002", EventIn(**event_data(2)), admin, None))
        raise RuntimeError("boom")
    assert store.get("test-0001") is None and store.count() == 0


def test_iter_events_reads_everything_in_batches(grid):
    assert [e.id for e in grid.store.iter_events(batch_size=5)] == [f"test-{n:04d}" for n in range(12)]


def test_refresh_zones_recomputes_after_the_layers_change(grid, admin):
    from shapely import box

    from app.layerstore.zones import ZoneIndex

    grid.zones = ZoneIndex.from_polygons({"control-2020": [("az", box(46.0, 39.0, 46.2, 40.0))]})
    assert grid.refresh_zones(admin) == 12
    assert grid.query(EventQuery(filters={"zones": "control-2020"})).matched == 4  # 46.05 .. 46.2 (edge included)
    assert grid.refresh_zones(admin) == 0


def test_bbox_with_datetime_uses_both_and_follows_updates(grid, admin, event_data):
    grid.create(admin, event_data(50, lon=46.11, lat=39.5, date_start="2020-09-20", date_end="2020-10-02"))
    query = EventQuery(bbox=(46.08, 39.4, 46.16, 39.6), datetime=(date(2020, 10, 2), date(2020, 10, 2)), limit=50)
    assert ids(grid.query(query)) == ["test-0050", "test-0001"]  # the long event overlaps by its last day
    grid.update(admin, "test-0050", {"date_end": "2020-10-01"})
    grid.update(admin, "test-0001", {"date_start": "2020-10-03", "date_end": "2020-10-03"})
    assert grid.query(query) == EventPage([], 0, False)


def test_the_extent_is_exact_and_read_from_indexes(store, service, admin, event_data):
    from app.events.store.sql import EXTENT_SQL

    assert (store.extent().bbox, store.extent().date_start) == (None, None)
    service.create(
        admin, event_data(1) | {"lon": 46.1, "lat": 39.2, "date_start": "2020-10-02", "date_end": "2020-10-04"}
    )
    service.create(
        admin, event_data(2) | {"lon": 47.3, "lat": 38.9, "date_start": "2020-09-28", "date_end": "2020-09-28"}
    )
    extent = store.extent()
    assert extent.bbox == pytest.approx((46.1, 38.9, 47.3, 39.2))
    assert (extent.date_start, extent.date_end) == (date(2020, 9, 28), date(2020, 10, 4))
    # re-read after every write: a scan of the events table (300 ms at 1,000,000 events) would hold readers up
    explain = "EXPLAIN QUERY PLAN " if store.backend == "sqlite" else "EXPLAIN "
    with store._cursor(write=False) as cur:
        if store.backend == "postgis":  # two rows: a scan is cheaper; forbid it, so that only a missing index shows
            cur.execute("SET enable_seqscan = off")
        cur.execute(explain + EXTENT_SQL)
        plan = "\n".join(str(row[-1] if store.backend == "sqlite" else row[0]) for row in cur.fetchall())
        if store.backend == "postgis":
            cur.execute("RESET enable_seqscan")
    assert "Seq Scan" not in plan and "SCAN events" not in plan, plan
    assert plan.count("INDEX") + plan.count("Index") >= 6, plan


def test_postgis_pool_in_use_is_busy_not_down(request):
    """A pool timeout while every connection serves a request answers StoreDown saying so, without failing fast."""
    import threading

    from app.events.errors import StoreDown
    from app.events.store.postgis import PostgisEventStore

    with PostgisEventStore(request.getfixturevalue("pg_session_url"), pool_max_size=1, pool_timeout=0.3) as store:
        store.count()
        held, release = threading.Event(), threading.Event()

        def hold_the_only_connection() -> None:
            with store.transaction():
                held.set()
                release.wait(10)

        holder = threading.Thread(target=hold_the_only_connection)
        holder.start()
        try:
            assert held.wait(5)
            with pytest.raises(StoreDown, match=r"all 1 event database connections stayed in use for 0.3 s") as busy:
                store.count()
            assert "events.pool_max_size" in str(busy.value)
        finally:
            release.set()
            holder.join()
        assert store.count() >= 0  # at once: busy is not an outage, nothing is failed for FAIL_FAST seconds
