"""Translate a pygeofilter CQL2 AST into a SQL ``WHERE`` fragment with bound parameters.

Values are never interpolated into SQL: every literal becomes a placeholder and a parameter. The SQL differs
between backends only in a few places (placeholders, date values, spatial predicates, case folding), which a
:class:`Dialect` supplies.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any, ClassVar, Protocol

import shapely
from pygeofilter import ast, values
from shapely.geometry.base import BaseGeometry

from app.events.errors import ValidationError

#: Integers a store column holds (SQLite and PostgreSQL: 64-bit); a filter beyond them is refused, not a 500.
INT_RANGE = range(-(2**63), 2**63)


class Kind(StrEnum):
    """What a queryable holds; decides how literals are bound and which operators apply."""

    TEXT = "string"
    INT = "integer"
    DATE = "date"
    DATETIME = "date-time"
    GEOMETRY = "geometry"


#: Spatial predicates: pygeofilter op -> shapely predicate name (also the PostGIS ST_ suffix, capitalised).
SPATIAL_OPS: Mapping[ast.SpatialComparisonOp, str] = {
    ast.SpatialComparisonOp.INTERSECTS: "intersects",
    ast.SpatialComparisonOp.DISJOINT: "disjoint",
    ast.SpatialComparisonOp.CONTAINS: "contains",
    ast.SpatialComparisonOp.WITHIN: "within",
    ast.SpatialComparisonOp.TOUCHES: "touches",
    ast.SpatialComparisonOp.CROSSES: "crosses",
    ast.SpatialComparisonOp.OVERLAPS: "overlaps",
    ast.SpatialComparisonOp.EQUALS: "equals",
}
_SWAPPED = {"contains": "within", "within": "contains"}
_COMPARISON = {"=": "=", "<>": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_ARITHMETIC = {"+": "+", "-": "-", "*": "*", "/": "/"}
MAX_GEOMETRY_VERTICES = 100_000


class Dialect(Protocol):
    """The backend-specific parts of the SQL."""

    placeholder: ClassVar[str]

    def bind_value(self, value: Any, kind: Kind | None) -> Any:
        """Convert a Python literal to what the driver binds for a column of ``kind``."""
        ...

    def spatial(self, predicate: str, geometry: BaseGeometry, params: Params) -> str:
        """SQL testing ``predicate(event point, geometry)``."""
        ...


@dataclass
class Params:
    """Parameters collected while building SQL; :meth:`bind` returns the placeholder to write."""

    placeholder: str
    values: list[Any] = field(default_factory=list)

    def bind(self, value: Any) -> str:
        """Record ``value`` and return its placeholder."""
        self.values.append(value)
        return self.placeholder


@dataclass(frozen=True)
class Column:
    """A queryable: its SQL expression and kind."""

    sql: str
    kind: Kind


class CqlTranslator:
    """Walk a pygeofilter AST and emit SQL.

    Parameters
    ----------
    dialect
        The backend's :class:`Dialect`.
    columns
        Queryable name -> :class:`Column`. Any other attribute is rejected with the list of queryables.

    """

    def __init__(self, dialect: Dialect, columns: Mapping[str, Column]) -> None:
        self.dialect = dialect
        self.columns = columns
        self._handlers: dict[type, Callable[[Any, Params], str]] = {
            ast.And: self._combination,
            ast.Or: self._combination,
            ast.Not: self._not,
            ast.Between: self._between,
            ast.Like: self._like,
            ast.In: self._in,
            ast.IsNull: self._is_null,
            ast.Include: lambda node, p: "(1 = 0)" if node.not_ else "(1 = 1)",
            ast.BBox: self._bbox,
        }

    def translate(self, node: ast.AstType, params: Params) -> str:
        """SQL for ``node``, appending its values to ``params``."""
        handler = self._handlers.get(type(node))
        if handler is not None:
            return handler(node, params)
        if isinstance(node, ast.Comparison):
            return self._comparison(node, params)
        if isinstance(node, ast.TemporalPredicate):
            return self._temporal(node, params)
        if isinstance(node, ast.SpatialComparisonPredicate):
            return self._spatial(node, params)
        raise ValidationError(f"filter: {type(node).__name__} is not supported by this collection")

    # -- logic --------------------------------------------------------------------------------------------------
    def _combination(self, node: ast.Combination, params: Params) -> str:
        return f"({self.translate(node.lhs, params)} {node.op.value} {self.translate(node.rhs, params)})"

    def _not(self, node: ast.Not, params: Params) -> str:
        return f"(NOT {self.translate(node.sub_node, params)})"

    # -- scalar predicates ---------------------------------------------------------------------------------------
    def _comparison(self, node: ast.Comparison, params: Params) -> str:
        kind = self._kind_of(node.lhs) or self._kind_of(node.rhs)
        lhs, rhs = self._scalar(node.lhs, params, kind), self._scalar(node.rhs, params, kind)
        return f"({lhs} {_COMPARISON[node.op.value]} {rhs})"

    def _between(self, node: ast.Between, params: Params) -> str:
        kind = self._kind_of(node.lhs)
        lhs = self._scalar(node.lhs, params, kind)
        low, high = self._scalar(node.low, params, kind), self._scalar(node.high, params, kind)
        return f"({lhs} {'NOT ' if node.not_ else ''}BETWEEN {low} AND {high})"

    def _like(self, node: ast.Like, params: Params) -> str:
        pattern, lower = node.pattern, False
        if isinstance(pattern, ast.Function) and pattern.name.lower() in ("lower", "casei") and pattern.arguments:
            pattern, lower = pattern.arguments[0], True
        if not isinstance(pattern, str):
            raise ValidationError("filter: the pattern of LIKE must be a string literal")
        sql_pattern = _like_pattern(pattern, node.wildcard, node.singlechar, node.escapechar)
        if lower or node.nocase:
            sql_pattern = sql_pattern.lower()
        lhs = self._scalar(node.lhs, params, Kind.TEXT)
        if node.nocase:
            lhs = f"lower({lhs})"
        return f"({lhs} {'NOT ' if node.not_ else ''}LIKE {params.bind(sql_pattern)} ESCAPE '\\')"

    def _in(self, node: ast.In, params: Params) -> str:
        kind = self._kind_of(node.lhs)
        if not node.sub_nodes or len(node.sub_nodes) > 1000:
            raise ValidationError("filter: IN needs between 1 and 1000 values")
        lhs = self._scalar(node.lhs, params, kind)
        items = ", ".join(self._scalar(v, params, kind) for v in node.sub_nodes)
        return f"({lhs} {'NOT ' if node.not_ else ''}IN ({items}))"

    def _is_null(self, node: ast.IsNull, params: Params) -> str:
        return f"({self._scalar(node.lhs, params, None)} IS {'NOT ' if node.not_ else ''}NULL)"

    # -- temporal ------------------------------------------------------------------------------------------------
    def _temporal(self, node: ast.TemporalPredicate, params: Params) -> str:
        if not isinstance(node.lhs, ast.Attribute):
            raise ValidationError("filter: a temporal predicate needs a date queryable as its first argument")
        column = self._column(node.lhs.name)
        if column.kind not in (Kind.DATE, Kind.DATETIME):
            raise ValidationError(f"filter: {node.lhs.name} is not a date or date-time queryable")
        start, end = _interval_bounds(node.rhs)
        bind = lambda v: params.bind(self.dialect.bind_value(_as_kind(v, column.kind), column.kind))  # noqa: E731
        op, a = node.op, column.sql
        if op is ast.TemporalComparisonOp.AFTER and end is not None:
            return f"({a} > {bind(end)})"
        if op is ast.TemporalComparisonOp.BEFORE and start is not None:
            return f"({a} < {bind(start)})"
        if op is ast.TemporalComparisonOp.TEQUALS and start is not None and start == end:
            return f"({a} = {bind(start)})"
        if op is ast.TemporalComparisonOp.DURING and start is not None and end is not None:
            return f"({a} > {bind(start)} AND {a} < {bind(end)})"
        if op is ast.TemporalComparisonOp.DISJOINT and start is not None and end is not None:
            return f"({a} < {bind(start)} OR {a} > {bind(end)})"
        if op is ast.TemporalComparisonOp.BEFORE_OR_DURING and end is not None:
            return f"({a} <= {bind(end)})"
        if op is ast.TemporalComparisonOp.DURING_OR_AFTER and start is not None:
            return f"({a} >= {bind(start)})"
        raise ValidationError(
            f"filter: T_{op.name} is not supported for the instant {node.lhs.name} with this argument; "
            "use T_AFTER, T_BEFORE, T_EQUALS, T_DURING, T_DISJOINT or comparisons"
        )

    # -- spatial -------------------------------------------------------------------------------------------------
    def _spatial(self, node: ast.SpatialComparisonPredicate, params: Params) -> str:
        predicate = SPATIAL_OPS[node.op]
        lhs, rhs = node.lhs, node.rhs
        if not isinstance(lhs, ast.Attribute) and isinstance(rhs, ast.Attribute):
            lhs, rhs, predicate = rhs, lhs, _SWAPPED.get(predicate, predicate)
        self._geometry_attribute(lhs)
        return self.dialect.spatial(predicate, _geometry_literal(rhs), params)

    def _bbox(self, node: ast.BBox, params: Params) -> str:
        self._geometry_attribute(node.lhs)
        if node.crs not in (None, "CRS84", "EPSG:4326", "http://www.opengis.net/def/crs/OGC/1.3/CRS84"):
            raise ValidationError(f"filter: BBOX crs {node.crs!r} is not supported; use CRS84")
        box = shapely.box(node.minx, node.miny, node.maxx, node.maxy)
        return self.dialect.spatial("intersects", box, params)

    def _geometry_attribute(self, node: Any) -> None:
        if not isinstance(node, ast.Attribute) or self._column(node.name).kind is not Kind.GEOMETRY:
            raise ValidationError("filter: a spatial predicate needs the geometry queryable and a geometry literal")

    # -- expressions ---------------------------------------------------------------------------------------------
    def _column(self, name: str) -> Column:
        try:
            return self.columns[name]
        except KeyError:
            raise ValidationError(
                f"filter: unknown queryable {name!r}; queryables: {', '.join(sorted(self.columns))}"
            ) from None

    def _kind_of(self, node: Any) -> Kind | None:
        if isinstance(node, ast.Attribute):
            return self._column(node.name).kind
        if isinstance(node, ast.Arithmetic):
            return Kind.INT
        return None

    def _scalar(self, node: Any, params: Params, kind: Kind | None) -> str:
        if isinstance(node, ast.Attribute):
            column = self._column(node.name)
            if column.kind is Kind.GEOMETRY:
                raise ValidationError(f"filter: {node.name} can only be used in spatial predicates")
            return column.sql
        if isinstance(node, ast.Arithmetic):
            lhs, rhs = self._scalar(node.lhs, params, Kind.INT), self._scalar(node.rhs, params, Kind.INT)
            return f"({lhs} {_ARITHMETIC[node.op.value]} {rhs})"
        if isinstance(node, ast.Function) and node.name.lower() in ("lower", "casei") and len(node.arguments) == 1:
            return f"lower({self._scalar(node.arguments[0], params, Kind.TEXT)})"
        if isinstance(node, ast.Function):
            raise ValidationError(f"filter: function {node.name!r} is not supported; supported: CASEI")
        if isinstance(node, bool | int | float | str | date):
            return params.bind(self.dialect.bind_value(_as_kind(node, kind), kind))
        raise ValidationError(f"filter: a {type(node).__name__} value cannot be compared here")


def _as_kind(value: Any, kind: Kind | None) -> Any:
    """Coerce a literal to the column's kind (e.g. a date-time compared with a date column becomes a date)."""
    if kind is Kind.DATE and isinstance(value, datetime):
        return value.date()
    if kind is Kind.DATE and isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            raise ValidationError(f"filter: {value!r} is not a date (YYYY-MM-DD)") from None
    if kind is Kind.INT and isinstance(value, str):
        raise ValidationError(f"filter: {value!r} compared with a number")
    if isinstance(value, int) and not isinstance(value, bool) and value not in INT_RANGE:
        raise ValidationError(f"filter: {value} is beyond the 64-bit integers the store holds")
    return value


def _interval_bounds(value: Any) -> tuple[Any, Any]:
    if isinstance(value, values.Interval):
        if isinstance(value.start, date | None) and isinstance(value.end, date | None):
            return value.start, value.end
        raise ValidationError("filter: intervals with durations are not supported; give start and end dates")
    if isinstance(value, date):
        return value, value
    raise ValidationError(f"filter: {value!r} is not a date, date-time or interval")


def _geometry_literal(value: Any) -> BaseGeometry:
    if isinstance(value, ast.Function) and value.name.lower() == "bbox" and len(value.arguments) in (4, 6):
        args = value.arguments
        half = len(args) // 2
        geom = shapely.box(args[0], args[1], args[half], args[half + 1])
    elif isinstance(value, values.Geometry | values.Envelope):
        try:
            geom = shapely.geometry.shape(value.geometry)
        except (ValueError, TypeError, AttributeError) as exc:
            raise ValidationError(f"filter: malformed geometry: {exc}") from None
    else:
        raise ValidationError("filter: a spatial predicate needs a geometry literal (WKT, GeoJSON or BBOX)")
    if shapely.get_num_coordinates(geom) > MAX_GEOMETRY_VERTICES:
        raise ValidationError(f"filter: geometry has more than {MAX_GEOMETRY_VERTICES} vertices")
    if not geom.is_valid:
        raise ValidationError(f"filter: invalid geometry: {shapely.is_valid_reason(geom)}")
    return geom


def _like_pattern(pattern: str, wildcard: str, singlechar: str, escapechar: str) -> str:
    """Rewrite a CQL LIKE pattern into SQL LIKE syntax with backslash as the escape character."""
    out, chars = [], iter(pattern)
    for char in chars:
        if char == escapechar:
            nxt = next(chars, "")
            out.append("\\" + nxt if nxt in ("%", "_", "\\") else nxt)
        elif char == wildcard:
            out.append("%")
        elif char == singlechar:
            out.append("_")
        elif char in ("%", "_", "\\"):
            out.append("\\" + char)
        else:
            out.append(char)
    return "".join(out)
