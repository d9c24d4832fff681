"""Text cells a spreadsheet would run as formulas, made inert: one rule for every CSV and XLSX the service writes."""

from __future__ import annotations

import re
from typing import Any

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would run as a formula (``= + - @``) gets a leading ``'``; numbers stay.

    Examples
    --------
    >>> neutralise("=HYPERLINK(1)"), neutralise("-46.5"), neutralise("@x"), neutralise(3)
    ("'=HYPERLINK(1)", '-46.5', "'@x", 3)

    """
    if isinstance(value, str) and value.startswith(_FORMULA_START) and not _NUMBER.match(value):
        return "'" + value
    return value
