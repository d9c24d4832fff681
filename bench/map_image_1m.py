"""/map.png of new views over 1,000,000 events on PostGIS (one command; results into bench/RESULTS.md).

    PYTHONPATH=$PWD .venv/bin/python bench/map_image_1m.py --data-dir /work/main/data [--database czmap_tiles_bench]

Reuses the database ``bench/tiles_vs_tipg.py --reuse`` keeps (1,000,000 synthetic events; run that first if it is
gone), starts ``create_app`` over it (renders in its worker process, as deployed) and asks, through the ASGI
stack (``TestClient``, no network), for views no request asked before: each a different period, so each is
drawn anew from the counts the store makes per cell. Then the alt text of ``/embed/code?variant=image`` for new
views, and one view again from the image cache. Writes the section between the ``map_image_1m`` markers of
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from statistics import median
from urllib.parse import unquote

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cache_vs_nginx import write_section  # noqa: E402
from tiles_vs_tipg import ROOT, pg_url  # noqa: E402

from app.main import create_app  # noqa: E402
from app.settings import Settings  # noqa: E402

FIRST_DAY = date(2020, 9, 27)


def _views(count: int, zoom: int, offset: int) -> list[dict[str, str]]:
    """``count`` views at ``zoom``, each over a different period (from a week to the whole war), never asked before."""
    views = []
    for i in range(count):
        start = FIRST_DAY + timedelta(days=(i + offset) % 7)
        end = start + timedelta(days=7 + 5 * ((i + offset) % 8))
        views.append({"zoom": str(zoom), "lat": "39.8", "lon": "46.7", "datetime": f"{start}/{end}"})
    return views


def _timed(client: object, path: str, params: dict[str, str]) -> tuple[float, object]:
    t0 = time.perf_counter()
    response = client.get(path, params=params)  # type: ignore[attr-defined]
    elapsed = time.perf_counter() - t0
    assert response.status_code == 200, response.text[:300]
    return elapsed, response


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT / "data", help="built layers (read only)")
    parser.add_argument("--database", default="czmap_tiles_bench")
    parser.add_argument("--views", type=int, default=5, help="new views per zoom")
    args = parser.parse_args()
    from fastapi.testclient import TestClient

    settings = Settings.model_validate(
        {
            "data_dir": args.data_dir,
            "basemap": {"url": None},
            "events": {"database_url": pg_url(args.database), "seed": False},
            "service": {"rate_per_address": 0},
        }
    )
    rows, loads = [], []
    with TestClient(create_app(settings)) as client:
        events = client.app.state.events.store.count()
        client.get("/map.png", params={"zoom": "7", "width": "300", "height": "200"})  # starts the worker process
        for zoom in (7, 9):
            times, matched = [], []
            for view in _views(args.views, zoom, zoom):
                elapsed, response = _timed(client, "/map.png", {**view, "width": "1200", "height": "800"})
                times.append(elapsed)
                matched.append(int(unquote(response.headers["x-alt-text"]).split(" ", 1)[0].replace(",", "")))
            loads.append(os.getloadavg()[0])
            rows.append((f"/map.png 1200x800, zoom {zoom}, a new view", times, matched))
        times, matched = [], []
        for view in _views(args.views, 7, 100):
            params = {**view, "variant": "image", "width": "800", "height": "600", "f": "json"}
            elapsed, response = _timed(client, "/embed/code", params)
            times.append(elapsed)
            matched.append(int(response.json()["alt"].split(" ", 1)[0].replace(",", "")))  # type: ignore[attr-defined]
        rows.append(("/embed/code?variant=image (alt text), zoom 7, a new view", times, matched))
        again = _views(1, 7, 7)[0]
        hits = [_timed(client, "/map.png", {**again, "width": "1200", "height": "800"})[0] for _ in range(50)]
        rows.append(("/map.png from the image cache", hits, []))
        loads.append(os.getloadavg()[0])
    lines = [
        "## /map.png over 1,000,000 events on PostGIS (`bench/map_image_1m.py`)",
        "",
        f"In process through the ASGI stack (TestClient), renders in the app's worker process; {events:,} events in "
        f"PostgreSQL (`{args.database}`, from `bench/tiles_vs_tipg.py --reuse`). Above `map.image_markers` (2,000) "
        "events a view is drawn from counts per cell made by the store, never from its rows. 1-minute load "
        f"{min(loads):.2f} to {max(loads):.2f} on {os.cpu_count()} CPUs, shared with other work. Before, the image "
        "read every event of the view: 75-88 s at 204,000 events (issue 16). The bench events carry no stored zones "
        "(`[]`), so the alt text's zone counts cost less here than over real events (a few zone sets per cell).",
        "",
        "| request | n | events in the view | p50 ms | max ms |",
        "|---|---:|---|---:|---:|",
    ]
    for name, times, matched in rows:
        counts = f"{min(matched):,} to {max(matched):,}" if matched else ""
        lines.append(f"| {name} | {len(times)} | {counts} | {median(times) * 1000:.1f} | {max(times) * 1000:.1f} |")
    section = "\n".join(lines)
    print(section)
    write_section("map_image_1m", section)


if __name__ == "__main__":
    main()
