"""GDAL's OAPIF driver against a live ``czmap serve``: which filters reach the server, how fields are typed.

GDAL sends an attribute filter as ``name=value`` only for properties the API document lists as query parameters
of the collection's items path, and a date range as ``datetime``; the server's access log shows what it sent.
Both GDAL builds here (the pyogrio wheel's and Debian's ``ogrinfo``) type the fields from the collection's
``describedBy`` JSON Schema, so a number column whose first page holds only nulls is still numeric.
"""

from __future__ import annotations

import re
import shutil
import subprocess

import pyogrio
from livesupport import LoggedServer
from testsupport import require

#: Fields whose type GDAL guessed as text while the first page held only nulls (before /schema was linked).
TYPED_FIELDS = {
    "fatalities_best": "Integer",
    "fatalities_low": "Integer",
    "fatalities_high": "Integer",
    "date_start": "Date",
    "created_at": "DateTime",
    "sources_text": "String",
}


def read(server: LoggedServer, where: str) -> int:
    server.clear()
    return len(pyogrio.read_dataframe(f"OAPIF:{server.url}", layer="events", where=where))


def test_equality_on_a_queryable_is_sent_to_the_server(logged_live_server: LoggedServer) -> None:
    count = read(logged_live_server, "event_type = 'Battles'")
    pages = [q for q in logged_live_server.queries("events") if "limit" in q and q["limit"] != ["20"]]
    assert pages and all(q.get("event_type") == ["Battles"] for q in pages)
    assert count > 0


def test_two_equalities_are_both_sent(logged_live_server: LoggedServer) -> None:
    read(logged_live_server, "event_type = 'Battles' AND verification = 'reported'")
    pages = [q for q in logged_live_server.queries("events") if "event_type" in q]
    assert pages and all(q.get("verification") == ["reported"] for q in pages)


def test_a_date_range_is_sent_as_datetime_and_answered(logged_live_server: LoggedServer) -> None:
    count = read(logged_live_server, "date_start >= '2020-10-01' AND date_start < '2020-10-10'")
    sent = [q["datetime"][0] for q in logged_live_server.queries("events") if "datetime" in q]
    assert sent == ["2020-10-01T/2020-10-10T"]  # GDAL's form: a date with a bare T
    assert count > 0


def test_an_integer_comparison_is_filtered_by_gdal_itself(logged_live_server: LoggedServer) -> None:
    """GDAL pushes no range on a plain property: it pages through everything (documented in the README)."""
    count = read(logged_live_server, "fatalities_best >= 5")
    assert not [q for q in logged_live_server.queries("events") if "fatalities_best" in q]
    assert count > 0


def test_the_wheel_gdal_types_the_fields_from_the_schema(logged_live_server: LoggedServer) -> None:
    info = pyogrio.read_info(f"OAPIF:{logged_live_server.url}", layer="events")
    dtypes = dict(zip(info["fields"], info["dtypes"], strict=True))
    assert {name: dtypes[name] for name in ("fatalities_low", "fatalities_high", "fatalities_best")} == {
        "fatalities_low": "int32",
        "fatalities_high": "int32",
        "fatalities_best": "int32",
    }
    assert list(info["fields"]).count("id") == 1


def test_debian_ogrinfo_types_the_fields_from_the_schema(logged_live_server: LoggedServer) -> None:
    ogrinfo = shutil.which("ogrinfo")
    require(ogrinfo is not None, "ogrinfo (apt gdal-bin)")
    assert ogrinfo is not None
    done = subprocess.run(
        [ogrinfo, "-ro", "-so", f"OAPIF:{logged_live_server.url}", "events"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    fields = dict(re.findall(r"^(\w+): (\w+)", done.stdout, flags=re.MULTILINE))
    assert {name: fields.get(name) for name in TYPED_FIELDS} == TYPED_FIELDS, done.stdout[-3000:]


def test_sources_reach_the_attribute_table_as_readable_text(logged_live_server: LoggedServer) -> None:
    frame = pyogrio.read_dataframe(f"OAPIF:{logged_live_server.url}", layer="events", where="fatalities_best >= 5")
    assert frame["sources_text"].notna().all() and (frame["sources_text"].str.len() > 0).all()
    first = frame.iloc[0]
    publishers = [source["publisher"] for source in first["sources"]]  # the structured list, read from JSON
    assert publishers and all(name in first["sources_text"] for name in publishers)
    assert "{" not in first["sources_text"]  # text a reader can read, not JSON
