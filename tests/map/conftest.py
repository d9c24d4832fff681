"""Fixtures of the map tests (defined in mapsupport.py so test modules can import its helpers)."""

from mapsupport import (  # noqa: F401
    artifacts,
    big_server,
    browser,
    bulk_store,
    events_fixture,
    helper_server,
    live_server,
    map_data_dir,
    seeded_server,
    watched,
)
