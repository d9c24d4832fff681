"""CQL2 text parsing with pygeofilter, completed where its grammar lags behind the CQL2 standard.

pygeofilter's ``cql2_text`` grammar is used as it ships, with three additions made by rewriting rules of that
grammar before Lark compiles it (the parse tree is still built by pygeofilter's own transformer):

- temporal predicates in the standard function form ``T_INTERSECTS(a, b)`` (pygeofilter only knows ``a T_x b``);
- ``DATE``/``TIMESTAMP``/``INTERVAL`` literals as in the standard: case-insensitive, ``INTERVAL`` bounds being
  dates, timestamps, ``'..'`` or property names;
- ``LIKE`` with CQL2's single-character wildcard ``_`` (pygeofilter uses ``.``).

``T_INTERSECTS`` becomes ``NOT T_DISJOINT`` (pygeofilter maps it to ``T_OVERLAPS``, which is narrower).
"""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path
from typing import Any

import lark
from pygeofilter import ast, values
from pygeofilter.cql2 import TEMPORAL_PREDICATES_MAP
from pygeofilter.parsers import cql2_text
from pygeofilter.parsers.cql2_text.parser import CQLTransformer

from app.collections.base import Queryable
from app.errors import InvalidFilter

MAX_FILTER_LENGTH = 20_000

_RULE_REWRITES = {
    # NOT applies to a parenthesised condition (pygeofilter only allows a single predicate there)
    '| "NOT"i "(" predicate ")"': '| "NOT"i "(" condition ")"',
    # standard CQL2 form of the temporal predicates
    "?temporal_predicate: expression _binary_temporal_predicate_func expression -> binary_temporal_predicate": (
        "?temporal_predicate: _binary_temporal_predicate_func "
        '"(" expression "," expression ")" -> binary_temporal_predicate'
    ),
    '?timestamp: "TIMESTAMP" "(" "\'" DATETIME "\'" ")"': '?timestamp: "TIMESTAMP"i "(" "\'" DATETIME "\'" ")"',
    '?date: "DATE" "(" "\'" DATE "\'" ")"': '?date: "DATE"i "(" "\'" DATE "\'" ")"',
    '?interval: "INTERVAL" "("  "\'" DATETIME "\'" "," "\'" DATETIME "\'" ")"': (
        'interval: "INTERVAL"i "(" interval_bound "," interval_bound ")"\n'
        '?interval_bound: "\'" DATETIME "\'" | "\'" DATE "\'" | timestamp | date | attribute\n'
        "               | \"'..'\" -> open_bound"
    ),
}


class _Transformer(CQLTransformer):
    """pygeofilter's transformer with the CQL2 forms described in the module docstring."""

    @lark.v_args(inline=True)
    def binary_temporal_predicate(self, op: Any, lhs: Any, rhs: Any) -> ast.Node:
        name = str(op).lower()
        if name == "t_intersects":
            return ast.Not(ast.TimeDisjoint(lhs, rhs))
        if name == "t_disjoint":
            return ast.TimeDisjoint(lhs, rhs)
        return TEMPORAL_PREDICATES_MAP[name](lhs, rhs)

    @lark.v_args(inline=True)
    def function(self, func_name: Any, *expressions: Any) -> Any:
        if func_name.name.lower() == "bbox" and len(expressions) in (4, 6):
            numbers = [float(e) for e in expressions]
            minx, miny, maxx, maxy = numbers[:2] + numbers[-3:-1] if len(numbers) == 6 else numbers
            return values.Envelope(minx, maxx, miny, maxy)
        return super().function(func_name, *expressions)

    @lark.v_args(inline=True)
    def open_bound(self) -> None:
        return None

    @lark.v_args(inline=True)
    def like(self, node: Any, pattern: Any) -> ast.Like:
        return ast.Like(node, pattern, False, "%", "_", "\\", False)

    @lark.v_args(inline=True)
    def not_like(self, node: Any, pattern: Any) -> ast.Like:
        return ast.Like(node, pattern, False, "%", "_", "\\", True)


@cache
def _parser() -> lark.Lark:
    folder = Path(cql2_text.__file__).parent
    grammar = (folder / "grammar.lark").read_text(encoding="utf-8")
    for old, new in _RULE_REWRITES.items():
        if old not in grammar:
            raise RuntimeError(f"pygeofilter's CQL2 grammar changed; rule not found: {old}")
        grammar = grammar.replace(old, new)
    grammar = grammar.replace('| "T_INTERSECTS"i', '| "T_INTERSECTS"i\n                        | "T_DISJOINT"i')
    return lark.Lark(
        grammar,
        parser="lalr",
        maybe_placeholders=False,
        transformer=_Transformer(),
        import_paths=[os.fspath(folder.parent), os.fspath(folder)],
    )


def parse_cql2_text(text: str) -> ast.Node:
    """Parse a CQL2 text filter into a pygeofilter AST; raises :class:`InvalidFilter` naming the problem.

    Examples
    --------
    >>> parse_cql2_text("population > 1000 AND name LIKE 'Sh%'")
    And(lhs=GreaterThan(lhs=ATTRIBUTE population, rhs=1000), rhs=Like(...))

    """
    if not text.strip():
        raise InvalidFilter("the filter is empty")
    if len(text) > MAX_FILTER_LENGTH:
        raise InvalidFilter(f"the filter is {len(text)} characters long; at most {MAX_FILTER_LENGTH} are accepted")
    try:
        return _parser().parse(text)
    except lark.exceptions.UnexpectedInput as exc:
        raise InvalidFilter(_describe(exc, text)) from None
    except (lark.exceptions.LarkError, ValueError, TypeError) as exc:
        raise InvalidFilter(str(exc).splitlines()[0] if str(exc) else type(exc).__name__) from None


def _describe(exc: lark.exceptions.UnexpectedInput, text: str) -> str:
    column = getattr(exc, "column", None)
    where = f"at character {column}" if column and column > 0 else "at the end"
    if isinstance(exc, lark.exceptions.UnexpectedEOF) or getattr(exc, "token", None) == "":
        return f"the filter ends too early: {text!r}"
    token = getattr(exc, "token", None) or getattr(exc, "char", None)
    got = f"unexpected {str(token)!r}" if token is not None else "unexpected text"
    context = exc.get_context(text, span=30).splitlines()[0].strip() if column else text
    return f"{got} {where} (near {context!r})"


def check_attributes(node: ast.Node, queryables: dict[str, Queryable]) -> None:
    """Raise :class:`InvalidFilter` when the AST names a property that is not queryable."""
    unknown = sorted({name for name in _attributes(node) if name not in queryables})
    if unknown:
        raise InvalidFilter(f"unknown property {', '.join(unknown)}; queryables: {', '.join(sorted(queryables))}")


def _attributes(node: Any) -> set[str]:
    if isinstance(node, ast.Attribute):
        return {node.name}
    if isinstance(node, values.Interval):
        return _attributes(node.start) | _attributes(node.end)
    found: set[str] = set()
    if isinstance(node, ast.Node):
        subs = node.get_sub_nodes()
        for sub in subs if isinstance(subs, list) else [subs]:
            found |= _attributes(sub)
    return found
