"""/map.png rendered and from the image cache, in process (one command; results into bench/RESULTS.md).

    .venv/bin/python bench/map_image_cache.py [--data-dir bench/results/data] [--hits 200]

Builds the layers if ``--data-dir`` has none (as ``oapif_vs_pygeoapi.py``), starts ``create_app`` over a fresh
SQLite store seeded with the curated events, renders a few distinct views (each a miss: a different centre) and
then requests one of them ``--hits`` times (each a hit), timing each request through the ASGI stack with
``TestClient`` (no network). Writes the section between the ``map_image_cache`` markers of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cache_vs_nginx import write_section  # noqa: E402
from oapif_vs_pygeoapi import RESULTS, ensure_layers  # noqa: E402

from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "data")
    parser.add_argument("--misses", type=int, default=5)
    parser.add_argument("--hits", type=int, default=200)
    args = parser.parse_args()
    ensure_layers(args.data_dir, rebuild=False)
    from fastapi.testclient import TestClient

    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings.model_validate(
            {"data_dir": args.data_dir, "basemap": {"url": None}, "events": {"database_url": f"sqlite:///{tmp}/e.db"}}
        )
        with TestClient(create_app(settings)) as client:
            view = {"zoom": "7", "width": "1200", "height": "800"}
            misses = []
            for i in range(args.misses):
                t0 = time.perf_counter()
                assert client.get("/map.png", params={**view, "lon": f"{46.5 + i * 0.05:.2f}"}).status_code == 200
                misses.append(time.perf_counter() - t0)
            hits = []
            for _ in range(args.hits):
                t0 = time.perf_counter()
                assert client.get("/map.png", params={**view, "lon": "46.50"}).status_code == 200
                hits.append(time.perf_counter() - t0)
            store = client.app.state.image_cache
            events = client.app.state.events.store.count()
    load = os.getloadavg()[0]
    section = "\n".join(
        [
            "## /map.png rendered and from the image cache (`bench/map_image_cache.py`)",
            "",
            f"In process through the ASGI stack (TestClient), 1200x800 PNG at zoom 7, {events} events in the SQLite "
            f"store; 1-minute load {load:.2f} on {os.cpu_count()} CPUs. Hits {store.hits}, misses {store.misses}.",
            "",
            "| request | n | p50 ms | max ms |",
            "|---|---:|---:|---:|",
            f"| rendered (a new view) | {len(misses)} | {median(misses) * 1000:.1f} | {max(misses) * 1000:.1f} |",
            f"| from the image cache | {len(hits)} | {median(hits) * 1000:.2f} | {max(hits) * 1000:.2f} |",
        ]
    )
    print(section)
    write_section("map_image_cache", section)


if __name__ == "__main__":
    main()
