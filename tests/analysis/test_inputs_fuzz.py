"""Property-based tests of the CSV and GeoJSON readers: every input is read correctly or refused with a 4xx error.

The spreadsheet habits planners bring (blank cells, quoted commas, byte order marks, semicolons and decimal
commas, extra columns, Windows line ends, ``Latitude``/``LAT``/``lng`` spellings) are generated; the values read
back are compared with the values written. Arbitrary bytes and arbitrary JSON must never raise anything but an
:class:`~app.analysis.errors.AnalysisError` (which the router maps to a 4xx status).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.analysis.errors import AnalysisError
from app.analysis.inputs import parse_json, read_csv_points, read_features, read_geojson_points
from app.analysis.limits import Limits

LAT_NAMES = ["latitude", "Latitude", "LAT", "lat", " Lat ", "lat_dd", "Latitude (deg)", "decimalLatitude"]
LON_NAMES = ["longitude", "Longitude", "LON", "lon", "lng", "Long", "lon_dd", "Longitude (deg)"]
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

lats = st.floats(min_value=38.0, max_value=41.5, allow_nan=False).map(lambda v: round(v, 5))
lons = st.floats(min_value=44.0, max_value=48.5, allow_nan=False).map(lambda v: round(v, 5))
free_text = st.text(alphabet=st.characters(blacklist_categories=["Cs", "Cc"]), max_size=12)
precision = st.one_of(st.just(""), st.integers(0, 50_000).map(str))


@st.composite
def spreadsheet_csv(draw: st.DrawFn) -> tuple[bytes, list[tuple[float, float, float]]]:
    """A CSV as a spreadsheet would save it, and the (lat, lon, radius) it must read as."""
    sep = draw(st.sampled_from([",", ";", "\t"]))
    decimal_comma = sep != "," and draw(st.booleans())
    rows = draw(st.lists(st.tuples(lats, lons, precision, free_text), min_size=1, max_size=8))
    header = ["id", draw(st.sampled_from(LAT_NAMES)), draw(st.sampled_from(LON_NAMES)), "precision_m", "note"]
    lines = [sep.join(header)]
    for i, (lat, lon, prec, note) in enumerate(rows):
        fmt = (lambda v: f"{v}".replace(".", ",")) if decimal_comma else str
        quoted = '"' + note.replace('"', '""') + '"'  # quotes protect separators and commas inside the note
        lines.append(sep.join([f"site {i}", fmt(lat), fmt(lon), prec, quoted]))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = newline.join(lines) + draw(st.sampled_from(["", newline]))
    bom = draw(st.sampled_from(["", "\ufeff"]))
    expected = [(lat, lon, float(prec) if prec else 0.0) for lat, lon, prec, _ in rows]
    return (bom + text).encode("utf-8"), expected


@FUZZ
@given(spreadsheet_csv())
def test_spreadsheet_csv_reads_the_values_written(case: tuple[bytes, list[tuple[float, float, float]]]) -> None:
    body, expected = case
    points = read_csv_points(body, Limits())
    assert points.lat.tolist() == [e[0] for e in expected]
    assert points.lon.tolist() == [e[1] for e in expected]
    assert points.radius_m is not None and points.radius_m.tolist() == [e[2] for e in expected]
    assert points.ids == [f"site {i}" for i in range(len(expected))]


def test_the_reported_blank_precision_cell_is_a_missing_value() -> None:
    """The 500 of issue 13: one blank optional cell made the radii read-only (numpy 'read-only' ValueError)."""
    body = b"id,latitude,longitude,precision_m\nA,39.6,47.1,\nB,39.7,47.0,500\n"
    points = read_csv_points(body, Limits())
    assert points.radius_m is not None and points.radius_m.tolist() == [0.0, 500.0]


@FUZZ
@given(st.binary(max_size=300))
def test_arbitrary_bytes_never_escape_as_other_errors(body: bytes) -> None:
    try:
        points = read_csv_points(body, Limits())
    except AnalysisError:
        return
    assert np.isfinite(points.lat).all() and np.isfinite(points.lon).all()


csv_cells = st.one_of(free_text, lats.map(str), st.sampled_from(["", " ", "1e400", "nan", "-", "39,5", '"']))


@FUZZ
@given(
    st.lists(st.sampled_from(["lat", "lon", "id", "precision_m", "where_prec", "Latitude", "x", ""]), max_size=6),
    st.lists(st.lists(csv_cells, max_size=7), max_size=5),
    st.sampled_from([",", ";", "\t"]),
)
def test_messy_tables_are_read_or_refused(header: list[str], rows: list[list[str]], sep: str) -> None:
    body = "\n".join(sep.join(cells) for cells in [header, *rows]).encode()
    try:
        points = read_csv_points(body, Limits())
    except AnalysisError:
        return
    assert len(points) == points.lat.size and (np.abs(points.lat) <= 90).all()
    assert points.radius_m is None or (points.radius_m >= 0).all()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=4),
    max_leaves=12,
)
point_like = st.fixed_dictionaries(
    {"type": st.sampled_from(["Feature", "Point", "Polygon", "x"]), "geometry": json_values},
    optional={"properties": json_values, "id": json_values, "coordinates": json_values},
)


@FUZZ
@given(
    st.one_of(
        json_values,
        point_like,
        st.builds(lambda fs: {"type": "FeatureCollection", "features": fs}, st.lists(point_like, max_size=3)),
    )
)
def test_arbitrary_geojson_is_read_or_refused(obj: object) -> None:
    body = json.dumps(obj).encode()  # stdlib: integers beyond 64 bits too
    for reader in (lambda o: read_geojson_points(o, Limits()), lambda o: read_features(o, Limits())):
        try:
            reader(parse_json(body))
        except AnalysisError:
            continue


@pytest.mark.parametrize(
    "body",
    [
        b"lat;lon\n39,5;46,5\n",
        "\ufeffLatitude,Longitude\r\n39.5,46.5\r\n".encode(),
        b"LAT\tLNG\textra\n39.5\t46.5\tfoo\n",
        b'name,lat,lon\n"Fuzuli, town",39.5,46.5\n',
    ],
)
def test_spreadsheet_habits_read_one_point(body: bytes) -> None:
    points = read_csv_points(body, Limits())
    assert (points.lat.tolist(), points.lon.tolist()) == ([39.5], [46.5])
