"""Evaluate a CQL2 AST (from :mod:`app.collections.cql`) on a GeoDataFrame, vectorised, into a boolean mask."""

from __future__ import annotations

import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
import pandas as pd
import shapely
from geopandas import GeoDataFrame, GeoSeries
from pygeofilter import ast, values
from pygeofilter.backends.evaluator import Evaluator, handle
from pygeofilter.util import like_pattern_to_re

from app.collections import temporal
from app.collections.base import Queryable
from app.errors import InvalidFilter

_COMPARE: dict[ast.ComparisonOp, Callable[[Any, Any], Any]] = {
    ast.ComparisonOp.EQ: operator.eq,
    ast.ComparisonOp.NE: operator.ne,
    ast.ComparisonOp.LT: operator.lt,
    ast.ComparisonOp.LE: operator.le,
    ast.ComparisonOp.GT: operator.gt,
    ast.ComparisonOp.GE: operator.ge,
}
_SPATIAL = {
    "INTERSECTS": "intersects",
    "DISJOINT": "disjoint",
    "CONTAINS": "contains",
    "WITHIN": "within",
    "TOUCHES": "touches",
    "CROSSES": "crosses",
    "OVERLAPS": "overlaps",
    "EQUALS": "geom_equals",
}
_ARITHMETIC = {"+": operator.add, "-": operator.sub, "*": operator.mul, "/": operator.truediv}
_Bounds = tuple[Any, Any]


@dataclass(frozen=True)
class _Interval:
    """An INTERVAL operand after evaluation: each bound a scalar, a column or ``None`` (open)."""

    start: Any
    end: Any


class _FrameEvaluator(Evaluator):
    """pygeofilter evaluator producing pandas boolean Series; unsupported nodes raise :class:`InvalidFilter`."""

    def __init__(self, frame: GeoDataFrame, queryables: Mapping[str, Queryable]) -> None:
        self.frame = frame
        self.queryables = queryables

    def adopt(self, node: Any, *sub_args: Any) -> Any:
        raise InvalidFilter(f"{type(node).__name__} is not supported")

    @handle(ast.Not)
    def not_(self, node: ast.Not, sub: pd.Series) -> pd.Series:
        return ~_mask(sub)

    @handle(ast.And, ast.Or)
    def combination(self, node: ast.Combination, lhs: pd.Series, rhs: pd.Series) -> pd.Series:
        return _mask(lhs) & _mask(rhs) if node.op.value == "AND" else _mask(lhs) | _mask(rhs)

    @handle(ast.Include)
    def include(self, node: ast.Include) -> pd.Series:
        return pd.Series(not node.not_, index=self.frame.index)

    @handle(ast.Comparison, subclasses=True)
    def comparison(self, node: ast.Comparison, lhs: Any, rhs: Any) -> pd.Series:
        lhs, rhs = _comparable(lhs, rhs, node)
        return _mask(_COMPARE[node.op](lhs, rhs))

    @handle(ast.Between)
    def between(self, node: ast.Between, lhs: Any, low: Any, high: Any) -> pd.Series:
        lhs, low = _comparable(lhs, low, node)
        lhs, high = _comparable(lhs, high, node)
        result = _mask(lhs.between(low, high))
        return ~result if node.not_ else result

    @handle(ast.Like)
    def like(self, node: ast.Like, lhs: Any) -> pd.Series:
        _require_text(lhs, node)
        regex = like_pattern_to_re(node.pattern, node.nocase, node.wildcard, node.singlechar, node.escapechar)
        result = lhs.astype("string").str.fullmatch(regex.pattern.removeprefix("^").removesuffix("$"))
        result = _mask(result)
        return ~result if node.not_ else result

    @handle(ast.In)
    def in_(self, node: ast.In, lhs: Any, *options: Any) -> pd.Series:
        for option in options:
            lhs, _ = _comparable(lhs, option, node)
        result = _mask(lhs.isin(options))
        return ~result if node.not_ else result

    @handle(ast.IsNull)
    def null(self, node: ast.IsNull, lhs: Any) -> pd.Series:
        result = _mask(lhs.isna() | lhs.astype("string").eq(""))
        return ~result if node.not_ else result

    @handle(ast.SpatialComparisonPredicate, subclasses=True)
    def spatial(self, node: ast.SpatialComparisonPredicate, lhs: Any, rhs: Any) -> pd.Series:
        if isinstance(lhs, GeoSeries) and isinstance(rhs, shapely.Geometry):
            return _mask(getattr(lhs, _SPATIAL[node.op.name])(rhs))
        if isinstance(rhs, GeoSeries) and isinstance(lhs, shapely.Geometry):
            flipped = {"CONTAINS": "WITHIN", "WITHIN": "CONTAINS"}.get(node.op.name, node.op.name)
            return _mask(getattr(rhs, _SPATIAL[flipped])(lhs))
        raise InvalidFilter(f"{node.op.name} needs the geometry property and a geometry literal")

    @handle(ast.BBox)
    def bbox(self, node: ast.BBox, lhs: Any) -> pd.Series:
        if not isinstance(lhs, GeoSeries):
            raise InvalidFilter("BBOX needs the geometry property")
        return _mask(lhs.intersects(shapely.box(node.minx, node.miny, node.maxx, node.maxy)))

    @handle(ast.TemporalPredicate, subclasses=True)
    def temporal(self, node: ast.TemporalPredicate, lhs: Any, rhs: Any) -> pd.Series:
        (a0, a1), (b0, b1) = self.operand_bounds(lhs), self.operand_bounds(rhs)
        relations: dict[str, Callable[[], Any]] = {
            "DISJOINT": lambda: (a1 < b0) | (a0 > b1),
            "BEFORE": lambda: a1 < b0,
            "AFTER": lambda: a0 > b1,
            "EQUALS": lambda: (a0 == b0) & (a1 == b1),
            "DURING": lambda: (a0 > b0) & (a1 < b1),
            "CONTAINS": lambda: (a0 < b0) & (a1 > b1),
        }
        if node.op.name not in relations:
            names = ", ".join(f"T_{n}" for n in ["INTERSECTS", *relations])
            raise InvalidFilter(f"T_{node.op.name} is not supported; supported: {names}")
        result = relations[node.op.name]()
        return result if isinstance(result, pd.Series) else pd.Series(bool(result), index=self.frame.index)

    @handle(ast.Attribute)
    def attribute(self, node: ast.Attribute) -> Any:
        queryable = self.queryables.get(node.name)
        if queryable is None:
            raise InvalidFilter(f"unknown property {node.name!r}")
        if queryable.type == "geometry":
            return self.frame.geometry
        if node.name not in self.frame.columns:
            return pd.Series(None, index=self.frame.index, dtype="object", name=node.name)
        column = self.frame[node.name].copy(deep=False)
        column.attrs["format"] = queryable.format
        return column

    @handle(ast.Arithmetic, subclasses=True)
    def arithmetic(self, node: ast.Arithmetic, lhs: Any, rhs: Any) -> Any:
        for side in (lhs, rhs):
            if isinstance(side, pd.Series) and not pd.api.types.is_numeric_dtype(side):
                raise InvalidFilter(f"arithmetic on the non-numeric property {side.name!r}")
        return _ARITHMETIC[node.op.value](lhs, rhs)

    @handle(*values.LITERALS)
    def literal(self, node: Any) -> Any:
        return node

    @handle(type(None))
    def open_bound(self, node: None) -> None:
        return None

    @handle(values.Interval)
    def interval(self, node: values.Interval, *bounds: Any) -> _Interval:
        start, end = bounds if len(bounds) == 2 else (node.start, node.end)
        return _Interval(start, end)

    @handle(values.Geometry)
    def geometry(self, node: values.Geometry) -> shapely.Geometry:
        try:
            return shapely.geometry.shape(node.geometry)
        except (ValueError, TypeError, shapely.errors.GEOSException) as exc:
            raise InvalidFilter(f"invalid geometry literal: {exc}") from None

    @handle(values.Envelope)
    def envelope(self, node: values.Envelope) -> shapely.Geometry:
        return shapely.box(node.x1, node.y1, node.x2, node.y2)

    # ---- temporal operands -------------------------------------------------------------------------------
    def operand_bounds(self, value: Any) -> _Bounds:
        """Start and end (scalars or Series) of a temporal operand."""
        if isinstance(value, pd.Series) and value.attrs.get("format") not in ("date", "date-time"):
            raise InvalidFilter(f"{value.name!r} is not a date property and cannot be used in a temporal predicate")
        if isinstance(value, _Interval):
            return _one_bound(value.start, end=False), _one_bound(value.end, end=True)
        return _one_bound(value, end=False), _one_bound(value, end=True)


def _one_bound(value: Any, *, end: bool) -> Any:
    if value is None:
        return temporal.MAX if end else temporal.MIN
    if isinstance(value, pd.Series):
        return temporal.column_bounds(value, end=end)
    if isinstance(value, date | datetime):
        return pd.Timestamp(temporal.end_of(value) if end else temporal.start_of(value))
    raise InvalidFilter(f"{value!r} is not a date, timestamp, interval or date property")


def _mask(result: Any) -> pd.Series:
    if not isinstance(result, pd.Series):
        raise InvalidFilter("a condition must compare a property (found a comparison of two literals)")
    return result.fillna(False).astype(bool)


def _require_text(lhs: Any, node: ast.Node) -> None:
    if not isinstance(lhs, pd.Series) or isinstance(lhs, GeoSeries):
        raise InvalidFilter(f"{type(node).__name__.upper()} needs a text property on its left")
    if pd.api.types.is_numeric_dtype(lhs):
        raise InvalidFilter(f"LIKE needs a text property; {lhs.name!r} is numeric")


def _comparable(lhs: Any, rhs: Any, node: ast.Node) -> tuple[Any, Any]:
    """Check and convert the operands of a comparison, so that a type mismatch is a clear error."""
    if isinstance(lhs, GeoSeries) or isinstance(rhs, GeoSeries):
        raise InvalidFilter("compare geometries with S_INTERSECTS and the other spatial functions")
    if not isinstance(lhs, pd.Series):
        return lhs, rhs
    if isinstance(rhs, date | datetime):
        if lhs.attrs.get("format") not in ("date", "date-time"):
            raise InvalidFilter(f"{lhs.name!r} is not a date property; it cannot be compared with {rhs.isoformat()}")
        return temporal.column_bounds(lhs, end=False).where(lhs.notna()), pd.Timestamp(temporal.start_of(rhs))
    numeric = pd.api.types.is_numeric_dtype(lhs) and not pd.api.types.is_bool_dtype(lhs)
    if numeric and isinstance(rhs, str):
        raise InvalidFilter(f"{lhs.name!r} is numeric; it cannot be compared with the text {rhs!r}")
    if not numeric and isinstance(rhs, int | float) and not isinstance(rhs, bool):
        raise InvalidFilter(f"{lhs.name!r} is text; compare it with a quoted string, not {rhs!r}")
    return lhs, rhs


def evaluate(frame: GeoDataFrame, node: ast.Node, queryables: Mapping[str, Queryable]) -> np.ndarray:
    """Boolean mask of the rows of ``frame`` matching ``node``; raises :class:`InvalidFilter`."""
    evaluator = _FrameEvaluator(frame, queryables)
    try:
        return _mask(evaluator.evaluate(node)).to_numpy()
    except InvalidFilter:
        raise
    except (TypeError, ValueError, shapely.errors.GEOSException) as exc:
        raise InvalidFilter(f"cannot evaluate: {exc}") from None
