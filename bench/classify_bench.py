"""Benchmark: classify 1,000,000 points against every zone layer, and naive geopandas.sjoin in the same run.

Usage::

    .venv/bin/python bench/classify_bench.py [--data-dir DIR] [--points 1000000] [--repeat 3]

Without ``--data-dir`` the layers are built from the geodata mirror ($CZMAP_GEODATA_MIRROR or ../shared/geodata)
into a temporary folder. Points are uniform over the region (seeded). Times are the best of ``--repeat`` runs,
in seconds of wall time; the target is zone membership of 1,000,000 points in under 2 s on 2 cores.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from app.analysis import caveats
from app.analysis.classify import Classification, classify
from app.analysis.dated import DEFAULT_DAY, LayerInfos, layer_infos, parse_period
from app.layerstore import LayerStore, ZoneIndex

REGION = (44.5, 38.3, 48.5, 41.3)
TARGET_S = 2.0


def build_layers(into: Path) -> Path:
    from geodata.build import build_all
    from geodata.fetch import fetch_sources
    from geodata.layerdefs import load_registry
    from geodata.sources import load_catalogue

    mirror = Path(os.environ.get("CZMAP_GEODATA_MIRROR", Path(__file__).resolve().parents[2] / "shared" / "geodata"))
    catalogue = load_catalogue()
    paths = fetch_sources(catalogue.sources.values(), into / "sources", mirror)
    build_all(load_registry(catalogue), catalogue, paths, into)
    return into


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, result = float("inf"), None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        best = min(best, time.perf_counter() - start)
    return best, result


def naive_sjoin(index: ZoneIndex, points: gpd.GeoDataFrame) -> int:
    """geopandas.sjoin of the points with each zone layer (what one would write first); returns matched pairs."""
    pairs = 0
    for layer in index.layers.values():
        zones = gpd.GeoDataFrame({"zone": [z.id for z in layer.zones]}, geometry=list(layer.geoms), crs="EPSG:4326")
        pairs += len(gpd.sjoin(points, zones, predicate="intersects", how="inner"))
    return pairs


def answered(index: ZoneIndex, infos: LayerInfos, lon: np.ndarray, lat: np.ndarray) -> Classification:
    """Zones on the default day with every layer's accuracy margin, and the caveats of the answer."""
    accuracy = {lid: infos.accuracy_m(lid) for lid in infos.layers}
    result = classify(index, lon, lat, distances=False, day=DEFAULT_DAY, accuracy_m=accuracy)
    ids = list(range(lon.size))
    result.notes += caveats.period_caveats(parse_period(None), result.layers)
    result.notes += caveats.layer_caveats(result.layers, infos)
    result.notes += caveats.near_edge_caveats(result, infos, None)
    result.notes += caveats.outside_caveats(result, ids)
    return result


def run(data_dir: Path, n: int, repeat: int) -> None:
    t0 = time.perf_counter()
    store = LayerStore.open(data_dir)
    index = store.zones.warm()
    load_s = time.perf_counter() - t0
    rng = np.random.default_rng(20201110)
    lon, lat = rng.uniform(REGION[0], REGION[2], n), rng.uniform(REGION[1], REGION[3], n)
    radius = rng.choice([0.0, 0.0, 25_000.0, 50_000.0], size=n)

    zones_s, result = best_of(repeat, lambda: classify(index, lon, lat, distances=False))
    full_s, _ = best_of(repeat, lambda: classify(index, lon, lat))
    fuzzy_s, _ = best_of(1, lambda: classify(index, lon, lat, radius, distances=False))
    infos = layer_infos(store)
    day_s, _ = best_of(repeat, lambda: classify(index, lon, lat, distances=False, day=DEFAULT_DAY))
    answered_s, _ = best_of(repeat, lambda: answered(index, infos, lon, lat))
    t0 = time.perf_counter()
    points = gpd.GeoDataFrame(geometry=gpd.points_from_xy(lon, lat), crs="EPSG:4326")
    frame_s = time.perf_counter() - t0
    sjoin_s, pairs = best_of(1, lambda: naive_sjoin(index, points))

    ours = int(sum(m.sum() for m in result.contains.values()))
    if ours != pairs:
        raise SystemExit(f"results differ: classify found {ours} point-zone pairs, sjoin {pairs}")
    zone_count = sum(len(layer.zones) for layer in index.layers.values())
    rows = [
        ("load zone index (once per process)", load_s),
        (f"classify: zones only ({zone_count} zones, {len(index.layers)} layers)", zones_s),
        ("classify: zones + distances (Iran border, 1994 line, nearest place)", full_s),
        ("classify: zones with precision radii (half the points 25/50 km)", fuzzy_s),
        (f"classify: zones on one day ({DEFAULT_DAY}, one state per place)", day_s),
        ("classify: zones on one day + every layer's accuracy margin + caveats", answered_s),
        ("geopandas: build points GeoDataFrame", frame_s),
        ("geopandas.sjoin per zone layer (naive)", sjoin_s),
    ]
    table = pd.DataFrame(rows, columns=["step", "seconds"])
    table["points/s"] = (n / table["seconds"]).round(-3).astype(int)
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    print(f"{n:,} points, {ours:,} point-zone pairs (same as sjoin), {os.cpu_count()} CPUs, best of {repeat}")
    print(f"load average at the end (1, 5, 15 min): {load}; other processes on the machine slow every row")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"ratio sjoin / classify (zones only): {sjoin_s / zones_s:.1f}x")
    print(f"ratio (sjoin + GeoDataFrame) / classify (zones + distances): {(sjoin_s + frame_s) / full_s:.1f}x")
    verdict = "meets" if zones_s < TARGET_S else "MISSES"
    print(f"target: zone membership of {n:,} points under {TARGET_S} s -> {verdict} ({zones_s:.3f} s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="Built data folder (default: build one into a temp dir).")
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.data_dir:
        run(args.data_dir, args.points, args.repeat)
        return
    with tempfile.TemporaryDirectory(prefix="czmap-bench-") as tmp:
        run(build_layers(Path(tmp)), args.points, args.repeat)


if __name__ == "__main__":
    main()
