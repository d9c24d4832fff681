"""Conflict-zone map: zone layers and reported fighting of the 2020 Nagorno-Karabakh war, as a web service."""

__version__ = "0.2.0"
