"""Fixtures of the map tests (defined in mapsupport.py so test modules can import its helpers)."""

from mapsupport import artifacts, big_server, browser, events_fixture, live_server, map_data_dir, watched  # noqa: F401
