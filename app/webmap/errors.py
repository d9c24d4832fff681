"""Errors of the web map domain; :data:`ERROR_STATUS` gives each its HTTP status, read by :mod:`app.http.errors`."""

from __future__ import annotations

from collections.abc import Mapping


class MapError(Exception):
    """Base class of the web map's errors."""


class InvalidViewError(MapError):
    """A view parameter (centre, zoom, dates, layers, filters, size...) has a value that cannot be used.

    Parameters
    ----------
    parameter : str
        Name of the offending parameter, as the user spelled it.
    message : str
        What is wrong and which values are allowed.

    """

    def __init__(self, parameter: str, message: str) -> None:
        super().__init__(f"{parameter}: {message}")
        self.parameter = parameter
        self.message = message


class MapNotConfiguredError(MapError):
    """Something the map needs (layer manifest, layer or event source) has not been set up."""


class UnsupportedFormatError(MapError):
    """An oEmbed consumer asked for a format other than JSON (oEmbed 1.0 answers 501 Not Implemented)."""


#: Error class -> (HTTP status, OGC exception code); the nearest class in an error's MRO wins.
ERROR_STATUS: Mapping[type[Exception], tuple[int, str]] = {
    InvalidViewError: (400, "InvalidParameterValue"),
    MapNotConfiguredError: (503, "ServiceUnavailable"),
    UnsupportedFormatError: (501, "NotImplemented"),
    MapError: (500, "ServerError"),
}
