"""PNG figures of analysis answers (matplotlib, no tile server), with legend, date and credits.

:func:`sites_png` maps the submitted points coloured by who controls the zone they are in on the answer's day,
over that day's zones; points within a layer's accuracy of a zone held by someone else are drawn hollow.
:func:`truces_png` draws, for each truce, the violations reported per day after it took effect.
"""

from __future__ import annotations

import io
import math
import textwrap
from typing import Any

import numpy as np
import shapely
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from app.analysis.classify import Classification, Membership
from app.analysis.dated import LayerInfos
from app.layerstore.zones import ZoneLayer
from app.webmap.render import control_colour

NONE_COLOUR = "#999999"


def _controllers(layer: ZoneLayer, infos: LayerInfos, day: Any) -> tuple[np.ndarray, list[str]]:
    valid = layer.valid_on(day)
    info = infos.get(layer.id)
    who = [str(info.describe(z, zone).get("controlled_by") or zone.name) for z, zone in enumerate(layer.zones)]
    return valid, who


def _point_labels(result: Classification, layer: ZoneLayer, who: list[str]) -> tuple[list[str], np.ndarray]:
    """Per point: the controller of the zone it is in ('' when none), and whether another is possible."""
    inside = result.contains[layer.id]
    possibly = result.membership[layer.id] == Membership.POSSIBLY_INSIDE
    labels, doubtful = [], np.zeros(inside.shape[1], dtype=bool)
    for i in range(inside.shape[1]):
        zones = np.flatnonzero(inside[:, i])
        label = who[int(zones[0])] if zones.size else ""
        labels.append(label)
        doubtful[i] = any(who[int(z)] != label for z in np.flatnonzero(possibly[:, i]))
    return labels, doubtful


def sites_png(
    layer: ZoneLayer,
    lon: np.ndarray,
    lat: np.ndarray,
    result: Classification,
    infos: LayerInfos,
    meta: dict[str, Any],
    day: Any,
) -> bytes:
    """The points over the zones of ``layer`` valid on ``day``, coloured by controller, with legend and credits."""
    valid, who = _controllers(layer, infos, day)
    labels, doubtful = _point_labels(result, layer, who)
    fig = Figure(figsize=(10, 8), dpi=100)
    ax = fig.add_axes((0.05, 0.12, 0.68, 0.78))
    handles: list[Any] = []
    for name in sorted({who[z] for z in np.flatnonzero(valid)}):
        colour = control_colour(name)
        for z in np.flatnonzero(valid):
            if who[z] == name:
                _fill(ax, layer.geoms[z], colour)
        handles.append(
            Patch(facecolor=colour, alpha=0.35, edgecolor="#333333", label=textwrap.fill(f"zone: {name}", 32))
        )
    colours = [control_colour(label) if label else NONE_COLOUR for label in labels]
    solid = ~doubtful
    ax.scatter(lon[solid], lat[solid], c=[colours[i] for i in np.flatnonzero(solid)], s=36, edgecolors="black")
    ax.scatter(
        lon[doubtful],
        lat[doubtful],
        facecolors="none",
        edgecolors=[colours[i] for i in np.flatnonzero(doubtful)],
        s=50,
        linewidths=2,
    )
    handles += [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor=NONE_COLOUR,
            markeredgecolor="black",
            label="site in no zone of this layer",
        ),
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            markerfacecolor="none",
            markeredgecolor="black",
            label=textwrap.fill("site within the layer's accuracy of a zone held by another", 32),
        ),
    ]
    _frame(ax, lon, lat, layer, valid)
    fig.legend(handles=handles, loc="upper left", bbox_to_anchor=(0.74, 0.9), fontsize=7, frameon=False)
    when = f"{meta.get('datetime')}" + (" (default day)" if meta.get("default") else "")
    fig.suptitle(f"Sites by zone of {layer.title}", fontsize=11, x=0.05, ha="left")
    fig.text(0.05, 0.915, f"On {when}; {len(lon)} sites; schematic zones, approximate edges", fontsize=8)
    credits = f"Zones: {infos.get(layer.id).attribution or layer.id}. Conflict-zone-map analysis."
    fig.text(0.05, 0.02, "\n".join(textwrap.wrap(credits, 160)[:4]), fontsize=6, va="bottom")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _fill(ax: Any, geom: Any, colour: str) -> None:
    for part in shapely.get_parts(geom):
        if part.geom_type == "Polygon":
            x, y = part.exterior.xy
            ax.fill(x, y, facecolor=colour, alpha=0.3, edgecolor="#333333", linewidth=0.4)


def _frame(ax: Any, lon: np.ndarray, lat: np.ndarray, layer: ZoneLayer, valid: np.ndarray) -> None:
    bounds = shapely.total_bounds(layer.geoms[valid]) if valid.any() else (np.nan,) * 4
    west = np.nanmin([bounds[0], *lon]) - 0.1
    east = np.nanmax([bounds[2], *lon]) + 0.1
    south = np.nanmin([bounds[1], *lat]) - 0.1
    north = np.nanmax([bounds[3], *lat]) + 0.1
    ax.set_xlim(west, east)
    ax.set_ylim(south, north)
    ax.set_aspect(1 / math.cos(math.radians((south + north) / 2)))
    ax.set_xlabel("longitude (degrees E)", fontsize=7)
    ax.set_ylabel("latitude (degrees N)", fontsize=7)
    ax.tick_params(labelsize=7)


def truces_png(report: dict[str, Any]) -> bytes:
    """One panel per truce: reported violations per day from the day it took effect, first one marked."""
    truces = report["truces"]
    fig = Figure(figsize=(10, 2.2 * max(len(truces), 1) + 1), dpi=100)
    axes = fig.subplots(max(len(truces), 1), 1, squeeze=False)[:, 0]
    for ax, truce in zip(axes, truces, strict=False):
        counts = [n for _, n in truce["violations_per_day"]]
        days = np.arange(len(counts))
        ax.bar(days, counts, color="#D55E00", width=0.8, label="violations reported that day")
        first = truce.get("first_reported_violation")
        if first:
            offset = [d for d, _ in truce["violations_per_day"]].index(first["date"])
            ax.axvline(offset, color="black", linestyle="--", linewidth=1, label=f"first reported: {first['date']}")
        ax.set_title(textwrap.shorten(f"{truce['title']} (from {truce['start_time']})", 110), fontsize=8, loc="left")
        ax.set_xlim(-0.6, max(len(counts), 8) - 0.4)
        ax.set_ylim(0, max([*counts, 1]) + 0.5)
        ax.yaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel("violations", fontsize=7)
        ax.tick_params(labelsize=7)
        ax.legend(fontsize=6, loc="upper right", frameon=False)
    axes[-1].set_xlabel("days after the day the truce took effect (day 0; events have no time of day)", fontsize=7)
    fig.suptitle("Did the truce hold? Reported violations per day (event store; reports, not verified)", fontsize=10)
    fig.text(
        0.01,
        0.005,
        "Events: conflict-zone-map curated event store (reported and claimed events). "
        "Truces: conflict-zone-map contributors (CC BY 4.0).",
        fontsize=6,
    )
    fig.tight_layout(rect=(0, 0.03, 1, 0.97))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()
