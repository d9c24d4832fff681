"""Import (UCDP GED, ACLED, GeoJSON, seed JSON), idempotence, rejected-row reports, and export (HXL CSV, GeoJSON)."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from app.events.errors import ValidationError
from app.events.export import write_csv, write_geojson
from app.events.importers import detect_format, import_file
from app.events.seed import DEFAULT_SEED, seed
from app.events.service import EventService
from app.events.store.sqlite import SqliteEventStore

FIXTURES = Path(__file__).parent / "fixtures"
UCDP = FIXTURES / "ucdp_ged_sample.csv"
ACLED = FIXTURES / "acled_sample.csv"
SEED = FIXTURES / "seed_sample.json"


def rejected(report):
    return [(r.line, r.field) for r in report.rejected]


@pytest.mark.parametrize(("path", "fmt"), [(UCDP, "ucdp"), (ACLED, "acled"), (SEED, "seed")])
def test_format_is_detected_from_the_header(path, fmt):
    assert detect_format(path) == fmt


def test_unknown_csv_header_is_refused(tmp_path):
    path = tmp_path / "other.csv"
    path.write_text("a,b,c\n1,2,3\n")
    with pytest.raises(ValidationError, match="format: cannot tell"):
        detect_format(path)


def test_ucdp_import_writes_good_rows_and_lists_bad_ones(service):
    report = import_file(service, UCDP)
    assert (report.format, report.rows, report.created, report.existing) == ("ucdp", 5, 3, 0)
    assert rejected(report) == [(4, "location_precision"), (5, "latitude")]
    assert "'abc' is not a number" in report.rejected[1].reason
    assert sorted(e.id for e in service.iter_events()) == ["ucdp-341001", "ucdp-341002", "ucdp-341005"]


def test_ucdp_fields_are_mapped_and_the_row_kept(service):
    import_file(service, UCDP)
    event = service.get("ucdp-341001")
    assert (event.fatalities_best, event.fatalities_low, event.fatalities_high) == (2, 2, 3)
    assert (event.date_start.isoformat(), event.date_precision, event.location_precision) == ("2020-10-04", 1, 1)
    assert event.actors == ["Government of Azerbaijan", "Republic of Artsakh"]
    assert event.zones == ["ceasefire-1994-area:all", "seven-districts:east"]
    assert event.source_record["conflict_name"] == "Azerbaijan: Nagorno-Karabakh"
    assert event.sources[0].title == "Shelling of Stepanakert"
    assert service.get("ucdp-341005").event_type == "Violence against civilians"


def test_importing_twice_adds_nothing(service):
    first = import_file(service, UCDP)
    second = import_file(service, UCDP)
    assert (second.created, second.existing, rejected(second)) == (0, 3, rejected(first))
    assert service.store.count() == 3
    assert [e.action for e in service.audit("ucdp-341001")] == ["import:ucdp"]


def test_acled_import_maps_precision_and_reports_physical_lines(service):
    report = import_file(service, ACLED, batch_size=2)
    assert (report.rows, report.created) == (6, 3)
    # AZE1005 spans lines 6-7 (a quoted newline), so the last bad row is on line 8
    assert rejected(report) == [(4, "sub_event_type"), (5, "event_date"), (8, "fatalities")]
    goris = service.get("acled-ARM2002")
    assert (goris.date_start.isoformat(), goris.date_precision, goris.location_precision) == ("2020-10-04", 3, 2)
    jabrayil = service.get("acled-AZE1005")
    assert "Volunteers" in jabrayil.actors and jabrayil.fatalities_best == 4
    assert [s.publisher for s in service.get("acled-AZE1001").sources] == ["Test Agency", "Other Outlet"]


def test_geojson_export_round_trips_through_import(service, zones, tmp_path):
    import_file(service, UCDP)
    import_file(service, ACLED)
    first = io.StringIO()
    assert write_geojson(service.iter_events(), first) == 6
    path = tmp_path / "events.geojson"
    path.write_text(first.getvalue(), encoding="utf-8")
    with SqliteEventStore(tmp_path / "copy.sqlite") as copy_store:
        copy = EventService(copy_store, zones)
        report = import_file(copy, path)
        assert (report.format, report.created, report.rejected) == ("geojson", 6, [])
        again = io.StringIO()
        write_geojson(copy.iter_events(), again)
    strip = {"created_at", "updated_at", "created_by", "updated_by"}
    before, after = (json.loads(text)["features"] for text in (first.getvalue(), again.getvalue()))
    for a, b in zip(before, after, strict=True):
        assert {k: v for k, v in a["properties"].items() if k not in strip} == {
            k: v for k, v in b["properties"].items() if k not in strip
        }
        assert (a["id"], a["geometry"]) == (b["id"], b["geometry"])


def _geojson(tmp_path: Path, document: object) -> Path:
    path = tmp_path / "in.geojson"
    path.write_text(json.dumps(document) if not isinstance(document, str) else document)
    return path


def test_geojson_in_another_crs_is_refused(service, tmp_path, event_data):
    doc = {"type": "FeatureCollection", "crs": {"type": "name", "properties": {"name": "EPSG:3857"}}, "features": []}
    with pytest.raises(ValidationError, match="crs: 'EPSG:3857'"):
        import_file(service, _geojson(tmp_path, doc))


def test_malformed_geojson_is_refused(service, tmp_path):
    with pytest.raises(ValidationError, match="not valid JSON"):
        import_file(service, _geojson(tmp_path, '{"type": "FeatureCollection", "features": ['))


def test_geojson_rows_without_point_or_id_are_rejected(service, tmp_path, event_data):
    props = {k: v for k, v in event_data(1).items() if k not in ("id", "lon", "lat")}
    point, line = (
        {"type": "Point", "coordinates": [46.2, 39.5]},
        {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
    )
    far = {"type": "Point", "coordinates": [246.2, 39.5]}
    features = [
        {"type": "Feature", "id": "g-1", "geometry": point, "properties": props},
        {"type": "Feature", "id": "g-2", "geometry": line, "properties": props},
        {"type": "Feature", "geometry": point, "properties": props},
        {"type": "Feature", "id": "g-4", "geometry": far, "properties": props},
    ]
    report = import_file(service, _geojson(tmp_path, {"type": "FeatureCollection", "features": features}))
    assert report.created == 1
    assert rejected(report) == [(2, "geometry"), (3, "id"), (4, "lon")]


def test_csv_export_has_the_hxl_row(service, admin, event_data):
    import_file(service, UCDP)
    service.create(admin, event_data(1, notes='=HYPERLINK("http://x")', lon=46.2, lat=39.5))
    out = io.StringIO()
    assert write_csv(service.iter_events(), out) == 4
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    header, tags, data = rows[0], rows[1], rows[2:]
    assert {"#date+start", "#geo+lat", "#geo+lon", "#adm1+name", "#event+type", "#affected+killed"} <= set(tags)
    assert all(tag.startswith("#") for tag in tags) and len(tags) == len(header)
    by_id = {row[0]: dict(zip(header, row, strict=True)) for row in data}
    assert by_id["ucdp-341001"]["lat"] == "39.8177" and by_id["ucdp-341001"]["admin1"] == "Nagorno-Karabakh"
    assert by_id["test-0001"]["notes"].startswith("'=")


def test_seed_is_idempotent_and_authored_by_seed(service):
    report = seed(service, SEED)
    assert (report.created, rejected(report)) == (2, [(3, "date_end")])
    assert seed(service, SEED).created == 0
    event = service.get("czm-2020-9001")
    assert (event.created_by, event.sources[0].title_is_descriptive) == ("seed", True)
    assert service.audit("czm-2020-9001")[0].actor == "seed"


def test_the_curated_seed_file_loads_without_rejections(service):
    report = seed(service)
    assert report.rejected == []
    assert report.created == len(json.loads(DEFAULT_SEED.read_text(encoding="utf-8")))


def _csv_rows(text: str) -> dict[str, dict[str, str]]:
    rows = list(csv.reader(io.StringIO(text)))
    header, data = rows[0], rows[2:]
    return {row[0]: dict(zip(header, row, strict=True)) for row in data}


def test_csv_export_keeps_every_source_field_including_denial_by(service, admin, event_data):
    sources = [
        {"publisher": "Claimant agency", "title": "Side A says it hit X", "published": "2020-10-01"},
        {
            "publisher": "=Other outlet",
            "title": "Side B denies hitting X, «fake»",
            "published": "2020-10-02",
            "url": "https://example.org/denial",
            "title_is_descriptive": True,
            "denial_by": "Side B",
        },
    ]
    service.create(admin, event_data(1, sources=sources, verification="disputed"))
    out = io.StringIO()
    write_csv(service.iter_events(), out)
    cell = _csv_rows(out.getvalue())["test-0001"]["sources"]
    assert json.loads(cell) == [s.model_dump(mode="json") for s in service.get("test-0001").sources]
    assert [s.get("denial_by") for s in json.loads(cell)] == [None, "Side B"]
    assert json.loads(cell)[1]["title"] == "Side B denies hitting X, «fake»"


def test_csv_export_of_the_curated_seed_keeps_its_denials(service):
    expected = {r["id"]: r for r in json.loads(DEFAULT_SEED.read_text(encoding="utf-8"))}
    seed(service)
    out = io.StringIO()
    assert write_csv(service.iter_events(), out) == len(expected)
    exported = _csv_rows(out.getvalue())
    denials = {event_id: [s.get("denial_by") for s in json.loads(row["sources"])] for event_id, row in exported.items()}
    assert denials == {i: [s.get("denial_by") for s in r["sources"]] for i, r in expected.items()}
    assert sum(any(d) for d in denials.values()) >= 20
