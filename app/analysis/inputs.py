"""Analysis input: GeoJSON (geometry, Feature or FeatureCollection, CRS84 or a declared ``crs``) and CSV points.

Every problem is reported with the feature or row it is in. Geometries come out in CRS84 (lon/lat).
A declared ``crs`` (``{"type": "name", "properties": {"name": ...}}``) is read with its authority's axis
order: ``EPSG:4326`` means latitude first, ``OGC:CRS84`` (or its URN) longitude first.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np
import orjson
import pandas as pd
import shapely
from pyproj import CRS, Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import shape
from shapely.geometry.base import BaseGeometry

from app.analysis.errors import InvalidCRS, InvalidGeometry, InvalidInput, MalformedInput
from app.analysis.limits import Limits

_CRS84_NAMES = frozenset(
    {
        "urn:ogc:def:crs:OGC:1.3:CRS84",
        "urn:ogc:def:crs:OGC::CRS84",
        "OGC:CRS84",
        "CRS84",
        "http://www.opengis.net/def/crs/OGC/1.3/CRS84",
    }
)
_GEOMETRY_TYPES = frozenset(
    {"Point", "MultiPoint", "LineString", "MultiLineString", "Polygon", "MultiPolygon", "GeometryCollection"}
)
#: Accepted names of the coordinate columns, in order of preference, after :func:`_column_key` (lower case,
#: no spaces, dashes, dots or units in brackets): ``Latitude``, ``LAT``, ``lat_dd``, ``Latitude (deg)`` ...
#: ``x``/``y`` are refused: they are as often projected metres as degrees.
LAT_COLUMNS = ("latitude", "lat", "latdd", "latdeg", "decimallatitude", "breite")
LON_COLUMNS = ("longitude", "lon", "lng", "long", "londd", "londeg", "decimallongitude", "laenge")
#: Field separators recognised in the header row, in order of preference on a tie.
CSV_SEPARATORS = (",", ";", "\t", "|")
#: Arrays of a GeoJSON body that may not be positions (rings, bounding boxes, lists in properties), on top of a
#: tenth of them, before the body is refused unparsed (:func:`parse_json`).
ARRAY_SLACK = 1000
_DECIMAL_COMMA = re.compile(r"^\s*[+-]?\d+,\d+\s*$")

#: Precision radius (metres) for each UCDP GED ``where_prec`` code. 1 (exact location) is taken as exact, 0 m:
#: the coordinates are the place of the event; send ``precision_m`` for a settlement's extent. 2 is UCDP's own
#: 25 km. 3 (only the district is known) is 50 km, the farthest a district edge lies from its centre here
#: (districts of 700-3,000 km2). 4 (only the province) is 150 km. 5 (a line or vague area) is 50 km. 6 and 7
#: (only the country, or waters) are 300 km, which covers the whole region: every nearby zone is "possibly".
WHERE_PREC_RADIUS_M: MappingProxyType[int, float] = MappingProxyType(
    {1: 0.0, 2: 25_000.0, 3: 50_000.0, 4: 150_000.0, 5: 50_000.0, 6: 300_000.0, 7: 300_000.0}
)


@dataclass
class Features:
    """Input features: ids (given, else the position), properties and CRS84 geometries."""

    ids: list[Any]
    properties: list[dict[str, Any]]
    geoms: np.ndarray


@dataclass
class Points:
    """Points to classify: CRS84 coordinates, optional precision radius (m), ids and properties."""

    lon: np.ndarray
    lat: np.ndarray
    radius_m: np.ndarray | None
    ids: Sequence[Any]
    properties: pd.DataFrame | list[dict[str, Any]]

    def __len__(self) -> int:
        return int(self.lon.size)


def parse_json(body: bytes, check_positions: Callable[[int, int], None] | None = None) -> Any:
    """Parse a JSON body, naming where it breaks; with ``check_positions``, refuse far too many positions first.

    ``check_positions`` is a :class:`Limits` check (``check_vertices``, ``check_rows``). Each GeoJSON position is
    one JSON array, so the body's ``[`` bound its positions from above: counting them costs milliseconds where
    parsing 1,000,000 positions costs seconds and hundreds of MiB. A body is refused here only when its arrays
    exceed the limit by more than a tenth plus :data:`ARRAY_SLACK` (rings, bounding boxes, lists in properties);
    the exact count follows the parse.

    Examples
    --------
    >>> parse_json(b'{"type": "Point"')
    Traceback (most recent call last):
    ...
    app.analysis.errors.MalformedInput: body is not valid JSON: unexpected end of data: line 1 column 17 (char 16)

    """
    if not body.strip():
        raise MalformedInput("empty request body: send GeoJSON")
    if check_positions is not None:
        arrays = body.count(b"[")
        check_positions(arrays, arrays // 10 + ARRAY_SLACK)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise MalformedInput(f"body is not valid JSON: {exc}") from None


def read_features(obj: Any, limits: Limits, repair: bool = False) -> Features:
    """GeoJSON geometry, Feature or FeatureCollection -> :class:`Features` in CRS84, validated.

    Examples
    --------
    >>> f = read_features({"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}, Limits())
    >>> f.ids, f.geoms[0].area
    ([0], 0.5)
    >>> read_features({"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}, Limits())
    Traceback (most recent call last):
    ...
    app.analysis.errors.InvalidGeometry: invalid geometry in feature 0: Self-intersection[0.5 0.5]; send repair=true ...

    """
    features = _feature_list(obj)
    limits.check_features(len(features))
    limits.check_vertices(sum(_positions(feature.get("geometry")) for feature in features))
    ids, props, geoms = [], [], []
    for position, feature in enumerate(features):
        ids.append(feature.get("id", position))
        props.append(_properties(feature, position))
        geoms.append(_geometry(feature.get("geometry"), position))
    array = np.asarray(geoms, dtype=object) if geoms else np.empty(0, dtype=object)
    array = _to_crs84(array, obj)
    return Features(ids, props, _validated(array, ids, repair))


def read_geojson_points(obj: Any, limits: Limits) -> Points:
    """GeoJSON Point features (or a MultiPoint / Point geometry) -> :class:`Points`.

    A feature property ``precision_m`` (metres) or ``where_prec`` (UCDP code) sets its precision radius.
    """
    features = _feature_list(obj)
    limits.check_rows(len(features))
    coords = np.empty((len(features), 2))
    ids, props = [], []
    for position, feature in enumerate(features):
        geometry = feature.get("geometry")
        if not isinstance(geometry, dict) or geometry.get("type") != "Point":
            raise InvalidInput(f"feature {position}: classify takes Point features, got {_type_of(geometry)}")
        coords[position] = _xy(geometry.get("coordinates"), position)
        ids.append(feature.get("id", position))
        props.append(_properties(feature, position))
    if len(features):
        lon, lat = _transform_xy(coords[:, 0], coords[:, 1], obj)
    else:
        lon, lat = coords[:, 0], coords[:, 1]
    _check_lonlat(lon, lat, ids)
    radius = _radius_from_properties(props)
    return Points(lon, lat, radius, ids, props)


def read_csv_points(body: bytes, limits: Limits) -> Points:
    r"""CSV with latitude/longitude columns (``latitude``/``lat``, ``longitude``/``lon``/``lng`` ...) -> Points.

    Optional columns: ``id``, ``precision_m`` (metres) or ``where_prec`` (UCDP code); every column comes back.
    The separator (``,``, ``;``, tab or ``|``) is read from the header row; a UTF-8 byte order mark, Windows line
    ends, decimal commas (``39,5``) and blank cells (missing values) are accepted.

    Examples
    --------
    >>> pts = read_csv_points(b"id,lat,lon,where_prec\nA,39.5,46.7,2\nB,39.6,46.8,1\n", Limits())
    >>> pts.ids, pts.lon.tolist(), pts.radius_m.tolist()
    (['A', 'B'], [46.7, 46.8], [25000.0, 0.0])
    >>> read_csv_points("\ufeffNom;Latitude;Longitude\r\nX;39,5;46,7\r\n".encode(), Limits()).lat.tolist()
    [39.5]

    """
    frame = _read_csv(body, limits.max_rows + 1)  # one row more than the limit shows it is passed
    if len(frame) > limits.max_rows:
        limits.check_rows(None)
    columns: dict[str, str] = {}
    for column in frame.columns:
        columns.setdefault(_column_key(column), column)
    lat_col = next((columns[c] for c in LAT_COLUMNS if c in columns), None)
    lon_col = next((columns[c] for c in LON_COLUMNS if c in columns), None)
    if lat_col is None or lon_col is None or lat_col == lon_col:
        raise InvalidInput(
            f"CSV needs a latitude and a longitude column ({'/'.join(LAT_COLUMNS[:3])} and "
            f"{'/'.join(LON_COLUMNS[:4])}); got columns {[str(c) for c in frame.columns][:20]}"
        )
    lat, lon = _numeric_column(frame, lat_col), _numeric_column(frame, lon_col)
    ids: Sequence[Any] = frame[columns["id"]].tolist() if "id" in columns else list(range(len(frame)))
    _check_lonlat(lon, lat, ids)
    radius = None
    if "precisionm" in columns:
        radius = _numeric_column(frame, columns["precisionm"], allow_empty=True)
    if "whereprec" in columns:
        radius = _merge_radius(radius, _where_prec_radius(frame[columns["whereprec"]]))
    if radius is not None:
        radius = _check_radius(radius)
    return Points(lon, lat, radius, ids, frame)


def _column_key(name: Any) -> str:
    """``" Latitude (deg) "`` -> ``latitude``; ``precision_m`` -> ``precisionm``."""
    text = re.sub(r"[\(\[].*?[\)\]]", "", str(name).replace("\ufeff", "")).lower()
    return re.sub(r"[^a-z0-9]", "", text)


def _separator(text: str) -> str:
    """The separator of the header row: the most frequent of :data:`CSV_SEPARATORS` outside quotes."""
    header = re.sub(r'"[^"]*"', "", text.split("\n", 1)[0])
    counts = [header.count(sep) for sep in CSV_SEPARATORS]
    return CSV_SEPARATORS[counts.index(max(counts))]


def _read_csv(body: bytes, max_rows: int) -> pd.DataFrame:
    """The CSV as text columns, at most ``max_rows`` rows parsed (what follows is not read)."""
    if not body.strip():
        raise MalformedInput("empty request body: send CSV with a header row")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise MalformedInput(f"CSV is not UTF-8 (save it as 'CSV UTF-8'): {exc}") from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if not text.strip() or "\x00" in text:
        raise MalformedInput("CSV is empty or binary: send text with a header row")
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=_separator(text),
            dtype=str,
            keep_default_na=False,
            skipinitialspace=True,
            nrows=max_rows,
        )
    except (pd.errors.ParserError, pd.errors.EmptyDataError, ValueError, csv.Error) as exc:
        raise MalformedInput(f"CSV does not parse: {str(exc).strip()}") from None
    return frame.fillna("")


def _numeric_column(frame: pd.DataFrame, column: str, allow_empty: bool = False) -> np.ndarray:
    text = frame[column].astype(str).str.strip()
    text = text.where(~text.str.match(_DECIMAL_COMMA), text.str.replace(",", ".", regex=False))
    values = pd.to_numeric(text.replace("", np.nan), errors="coerce").to_numpy(np.float64, copy=True)
    bad = np.isnan(values) & ~(allow_empty & (text == "")).to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        what = "is empty" if text.iloc[row] == "" else f"is not a number: {frame[column].iloc[row]!r}"
        raise InvalidInput(f"CSV row {row + 1}: column {column!r} {what}")
    return values


def _where_prec_radius(codes: pd.Series) -> np.ndarray:
    text = codes.astype(str).str.strip()
    numbers = pd.to_numeric(text.replace("", np.nan), errors="coerce")
    radius = numbers.map(WHERE_PREC_RADIUS_M).to_numpy(np.float64, copy=True)
    bad = np.isnan(radius) & (text != "").to_numpy()
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidInput(
            f"row {row + 1}: where_prec {codes.iloc[row]!r} is not a UCDP code; allowed: {sorted(WHERE_PREC_RADIUS_M)}"
        )
    return radius


def _merge_radius(explicit: np.ndarray | None, from_code: np.ndarray) -> np.ndarray:
    """``precision_m`` wins where given; ``where_prec`` fills the rest; neither -> 0 m."""
    merged = from_code if explicit is None else np.where(np.isnan(explicit), from_code, explicit)
    return np.nan_to_num(merged, nan=0.0)


def _check_radius(values: np.ndarray) -> np.ndarray:
    """A writable copy of the radii with blanks (NaN) as 0 m, or :class:`InvalidInput` naming the point."""
    radius = np.nan_to_num(np.array(values, dtype=np.float64), nan=0.0, posinf=np.inf, neginf=-np.inf)
    bad = ~np.isfinite(radius) | (radius < 0) | (radius > 1_000_000)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InvalidInput(f"point {row}: precision_m must be between 0 and 1,000,000 m, got {radius[row]}")
    return radius


def _radius_from_properties(props: list[dict[str, Any]]) -> np.ndarray | None:
    if not any("precision_m" in p or "where_prec" in p for p in props):
        return None
    explicit = np.array([_number(p.get("precision_m"), i, "precision_m") for i, p in enumerate(props)])
    codes = pd.Series(["" if p.get("where_prec") is None else str(p["where_prec"]) for p in props], dtype=str)
    return _check_radius(_merge_radius(explicit, _where_prec_radius(codes)))


def _number(value: Any, position: int, name: str) -> float:
    if value is None:
        return np.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise InvalidInput(f"feature {position}: {name} must be a number, got {value!r}")
    return float(value)


def _feature_list(obj: Any) -> list[dict[str, Any]]:
    if not isinstance(obj, dict):
        raise InvalidInput(f"expected a GeoJSON object, got a JSON {type(obj).__name__}")
    kind = obj.get("type")
    if kind == "FeatureCollection":
        features = obj.get("features")
        if not isinstance(features, list):
            raise InvalidInput("FeatureCollection has no 'features' array")
        for position, feature in enumerate(features):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                raise InvalidInput(f"features[{position}] is not a GeoJSON Feature")
        return features
    if kind == "Feature":
        return [obj]
    if kind == "MultiPoint":
        return [{"type": "Feature", "geometry": {"type": "Point", "coordinates": c}} for c in _list(obj, "MultiPoint")]
    if isinstance(kind, str) and kind in _GEOMETRY_TYPES:
        return [{"type": "Feature", "geometry": obj}]
    raise InvalidInput(
        f"unknown GeoJSON type {str(kind)[:60]!r}; expected a geometry, a Feature or a FeatureCollection"
    )


def _positions(geometry: Any) -> int:
    """The positions of a GeoJSON geometry, counted before any is read (0 for what is not a geometry)."""
    if not isinstance(geometry, dict):
        return 0
    if geometry.get("type") == "GeometryCollection":
        members = geometry.get("geometries")
        return sum(_positions(member) for member in members) if isinstance(members, list) else 0
    return _count_positions(geometry.get("coordinates"))


def _count_positions(coords: Any) -> int:
    """Positions in a coordinates array, a list of positions by its length (a 1,000,000-vertex ring: one len).

    >>> _count_positions([[[0, 0], [1, 0], [1, 1], [0, 0]]]), _count_positions([46.5, 39.5])
    (4, 1)
    """
    if not isinstance(coords, list) or not coords:
        return 0
    first = coords[0]
    if not isinstance(first, list):
        return 1
    if first and not isinstance(first[0], list):
        return len(coords)
    return sum(_count_positions(member) for member in coords)


def _list(obj: dict[str, Any], kind: str) -> list[Any]:
    coords = obj.get("coordinates")
    if not isinstance(coords, list):
        raise InvalidInput(f"{kind} has no 'coordinates' array")
    return coords


def _properties(feature: dict[str, Any], position: int) -> dict[str, Any]:
    props = feature.get("properties")
    if props is None:
        return {}
    if not isinstance(props, dict):
        raise InvalidInput(f"feature {position}: 'properties' must be an object or null")
    return props


def _type_of(geometry: Any) -> str:
    return repr(geometry.get("type")) if isinstance(geometry, dict) else "no geometry"


def _xy(coords: Any, position: int) -> tuple[float, float]:
    if (
        not isinstance(coords, list)
        or len(coords) < 2
        or not all(isinstance(c, int | float) and not isinstance(c, bool) for c in coords[:2])
    ):
        raise InvalidInput(f"feature {position}: Point coordinates must be [x, y] numbers, got {str(coords)[:60]}")
    return float(coords[0]), float(coords[1])


def _geometry(geometry: Any, position: int) -> BaseGeometry:
    if (
        not isinstance(geometry, dict)
        or not isinstance(geometry.get("type"), str)
        or geometry["type"] not in _GEOMETRY_TYPES
    ):
        raise InvalidInput(f"feature {position}: geometry must be a GeoJSON geometry, got {_type_of(geometry)}")
    try:
        geom = shape(geometry)
    except Exception as exc:  # noqa: BLE001 - shapely raises many kinds for malformed coordinates
        raise InvalidInput(f"feature {position}: malformed {geometry['type']} coordinates ({exc})") from None
    _check_rings_closed(geometry, position)
    if geom.is_empty:
        raise InvalidInput(f"feature {position}: empty geometry")
    return geom


def _check_rings_closed(geometry: dict[str, Any], position: int) -> None:
    """Refuse a polygon ring whose last position is not its first (RFC 7946 3.1.6); shapely would close it."""
    kind = geometry["type"]
    if kind == "GeometryCollection":
        for member in geometry.get("geometries") or []:
            if isinstance(member, dict):
                _check_rings_closed(member, position)
        return
    coords = geometry.get("coordinates")
    if kind not in ("Polygon", "MultiPolygon") or not isinstance(coords, list):
        return
    polygons = [coords] if kind == "Polygon" else coords
    for polygon in polygons:
        for ring in polygon if isinstance(polygon, list) else []:
            if isinstance(ring, list) and len(ring) >= 2 and ring[0] != ring[-1]:
                raise InvalidInput(
                    f"feature {position}: a {kind} ring is not closed (its last position must repeat its first, "
                    f"{str(ring[0])[:40]}; got {str(ring[-1])[:40]})"
                )


def _declared_crs(obj: Any) -> Transformer | None:
    """Transformer from the object's declared ``crs`` to CRS84, or None for CRS84 / no declaration."""
    crs = obj.get("crs") if isinstance(obj, dict) else None
    if crs is None:
        return None
    properties = crs.get("properties") if isinstance(crs, dict) and crs.get("type") == "name" else None
    name = properties.get("name") if isinstance(properties, dict) else None
    if not isinstance(name, str):
        raise InvalidCRS('crs must be {"type": "name", "properties": {"name": "EPSG:<code>"}}')
    if name in _CRS84_NAMES:
        return None
    try:
        declared = CRS.from_user_input(name)
    except CRSError:
        raise InvalidCRS(f"unknown crs {name!r}; use an EPSG code such as 'EPSG:32638' or OGC:CRS84") from None
    return Transformer.from_crs(declared, "OGC:CRS84")


def _transform_xy(x: np.ndarray, y: np.ndarray, obj: Any) -> tuple[np.ndarray, np.ndarray]:
    transformer = _declared_crs(obj)
    if transformer is None:
        return x, y
    lon, lat = transformer.transform(x, y, errcheck=False)
    return np.asarray(lon, dtype=np.float64), np.asarray(lat, dtype=np.float64)


def _to_crs84(geoms: np.ndarray, obj: Any) -> np.ndarray:
    transformer = _declared_crs(obj)
    if transformer is not None:
        geoms = shapely.transform(
            geoms, lambda xy: np.column_stack(transformer.transform(xy[:, 0], xy[:, 1], errcheck=False))
        )
    coords = shapely.get_coordinates(geoms)
    bad = ~np.isfinite(coords).all(axis=1) | (np.abs(coords[:, 0]) > 180) | (np.abs(coords[:, 1]) > 90)
    if bad.any():
        where = "after transformation from the declared crs" if transformer else "for CRS84 (lon, lat)"
        raise InvalidCRS(f"coordinate {coords[bad][0].tolist()} is out of range {where}; declare the crs you use")
    return geoms


def _check_lonlat(lon: np.ndarray, lat: np.ndarray, ids: Sequence[Any]) -> None:
    bad = ~(np.isfinite(lon) & np.isfinite(lat)) | (np.abs(lon) > 180) | (np.abs(lat) > 90)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise InvalidCRS(f"point {ids[i]!r}: ({lon[i]}, {lat[i]}) is not a longitude/latitude in range")


def _validated(geoms: np.ndarray, ids: list[Any], repair: bool) -> np.ndarray:
    valid = shapely.is_valid(geoms)
    if valid.all():
        return geoms
    if not repair:
        i = int(np.flatnonzero(~valid)[0])
        raise InvalidGeometry(
            repr(ids[i]) if not isinstance(ids[i], int) else str(ids[i]), shapely.is_valid_reason(geoms[i])
        )
    out = geoms.copy()
    out[~valid] = shapely.make_valid(geoms[~valid])
    return out
