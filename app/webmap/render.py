"""Static PNG of a map view (matplotlib/geopandas, no tile server): zones, events, legend, date, attribution."""

from __future__ import annotations

import io
import math
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import pandas as pd
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch
from pyproj import Transformer

from app.webmap.alttext import alt_text, date_phrase
from app.webmap.attribution import attribution_text
from app.webmap.builder import DEFAULT_TITLE, is_dated, zone_layer_ids
from app.webmap.errors import InvalidViewError
from app.webmap.sources import MapData
from app.webmap.view import EVENTS, MapView

MIN_SIZE, MAX_SIZE = 200, 3000
HEADER_PX, FOOTER_PX = 50, 40
WEB_MERCATOR_M_PER_PX_Z0 = 156_543.033_928_041
#: Marker shape per event type family (as the web map's symbols) and fill per verification (Okabe-Ito).
TYPE_MARKERS = {"battle": "D", "explosion": "s", "civilians": "^", "strategic": "P", "other": "o"}
VERIFICATION_COLOURS = {
    "verified": "#009E73",
    "corroborated": "#0072B2",
    "reported": "#F0E442",
    "disputed": "#E69F00",
    "retracted": "#999999",
}
TO_MERCATOR = Transformer.from_crs(4326, 3857, always_xy=True)
#: location_precision from which an event has no meaningful point (country only, waters/airspace): not drawn.
UNMAPPED_PRECISION = 6
#: Fill of a zone by who controlled it (as the web map; Okabe-Ito), matched by words in ``controlled_by``.
CONTROL_COLOURS = (("armenia", "#D55E00"), ("azerbaijan", "#0072B2"), ("russia", "#F0E442"), ("peacekeep", "#F0E442"))
PixelBox = tuple[int, int, int, int]


@dataclass(frozen=True)
class StaticMap:
    """A rendered PNG and the alt text written from the same data."""

    png: bytes
    alt: str
    event_count: int
    unmapped_count: int = 0
    legend_box: PixelBox | None = None
    credits_box: PixelBox | None = None


def type_family(event_type: object) -> str:
    """The symbol family of an event type (same rules as the web map).

    Examples
    --------
    >>> type_family("Explosions/Remote violence"), type_family("Battles"), type_family(None)
    ('explosion', 'battle', 'other')

    """
    text = str(event_type or "").lower()
    families = [
        ("battle", ("battle", "armed clash")),
        ("explosion", ("explosion", "shelling", "remote", "strike", "drone")),
        ("civilians", ("civilian",)),
        ("strategic", ("strategic",)),
    ]
    for family, words in families:
        if any(word in text for word in words):
            return family
    return "other"


def view_bounds(view: MapView, width: int, height: int) -> tuple[float, float, float, float]:
    """Web Mercator bounds of ``view`` at ``width`` x ``height`` pixels, as the web map shows it."""
    cx, cy = TO_MERCATOR.transform(view.lon, view.lat)
    resolution = WEB_MERCATOR_M_PER_PX_Z0 / 2**view.zoom
    half_w, half_h = width * resolution / 2, height * resolution / 2
    return cx - half_w, cy - half_h, cx + half_w, cy + half_h


def check_size(width: int, height: int) -> None:
    """Reject image sizes outside ``MIN_SIZE``-``MAX_SIZE`` pixels."""
    for name, value in (("width", width), ("height", height)):
        if not MIN_SIZE <= value <= MAX_SIZE:
            raise InvalidViewError(name, f"must be from {MIN_SIZE} to {MAX_SIZE} pixels, got {value}")


def view_events(view: MapView, data: MapData, width: int, height: int) -> gpd.GeoDataFrame:
    """The events ``view`` shows at ``width`` x ``height`` pixels (bbox, dates and filters applied)."""
    check_size(width, height)
    x0, y0, x1, y1 = view_bounds(view, width, height)
    west, south = TO_MERCATOR.transform(x0, y0, direction="INVERSE")
    east, north = TO_MERCATOR.transform(x1, y1, direction="INVERSE")
    return _filtered_events(view, data, (west, south, east, north)) if EVENTS in view.layers else _empty()


def split_unmapped(events: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``(drawn, unmapped)``: events located better than the country, and the rest (never drawn as points)."""
    precision = pd.to_numeric(_column(events, "location_precision"), errors="coerce").fillna(1)
    unmapped = precision >= UNMAPPED_PRECISION
    return events[~unmapped], events[unmapped]


def describe(view: MapView, manifest: Mapping, data: MapData, events: gpd.GeoDataFrame) -> str:
    """The alt text of ``view`` showing ``events``: it counts the events drawn, and names those that are not."""
    drawn, unmapped = split_unmapped(events)
    text = alt_text(drawn, data.zones.index, view.start, view.end)
    if len(unmapped):
        text += f" {unmapped_phrase(len(unmapped))}"
    return text


def unmapped_phrase(count: int) -> str:
    """The sentence about events that are not drawn.

    Examples
    --------
    >>> unmapped_phrase(1)
    '1 more reported event, located only to the country or in waters/airspace, is not drawn.'

    """
    noun, verb = ("event", "is") if count == 1 else ("events", "are")
    return f"{count:,} more reported {noun}, located only to the country or in waters/airspace, {verb} not drawn."


def render_png(view: MapView, manifest: Mapping, data: MapData, *, width: int = 1200, height: int = 800) -> StaticMap:
    """Render ``view`` to a PNG with its legend, date and attribution, and write its alt text.

    Parameters
    ----------
    view : MapView
        Centre, zoom, dates, layers and filters.
    manifest : mapping
        The layer manifest (titles, styles, sources).
    data : MapData
        Where zones and events are read from.
    width, height : int
        Image size in pixels (200 to 3000).

    Returns
    -------
    StaticMap

    """
    matched = view_events(view, data, width, height)
    events, unmapped = split_unmapped(matched)
    map_px = height - HEADER_PX - FOOTER_PX
    x0, y0, x1, y1 = view_bounds(view, width, map_px)
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_axes((0.0, FOOTER_PX / height, 1.0, map_px / height))
    ax.set_facecolor("#1b1b1b" if view.dark else "#f4f1ea")
    handles = _draw_zones(ax, view, manifest, data) + _draw_events(ax, events)
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    legend, credits = _decorate(fig, ax, view, manifest, handles, (len(events), len(unmapped)))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=100, facecolor=fig.get_facecolor())
    return StaticMap(
        png=buffer.getvalue(),
        alt=describe(view, manifest, data, matched),
        event_count=len(events),
        unmapped_count=len(unmapped),
        legend_box=_pixel_box(fig, legend),
        credits_box=_pixel_box(fig, credits),
    )


def _pixel_box(fig: Figure, artist: Artist | None) -> PixelBox | None:
    """Where ``artist`` landed in the saved image: (left, top, right, bottom) pixels, top-left origin."""
    if artist is None:
        return None
    extent = artist.get_window_extent()  # laid out by savefig
    height = fig.bbox.height
    return (int(extent.x0), int(height - extent.y1), int(math.ceil(extent.x1)), int(math.ceil(height - extent.y0)))


def _empty() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(geometry=[], crs=4326)


def _filtered_events(view: MapView, data: MapData, bbox: tuple[float, float, float, float]) -> gpd.GeoDataFrame:
    events = data.events.events(bbox=bbox, start=view.start, end=view.end)
    if view.event_types and len(events):
        events = events[events["event_type"].astype(str).isin(view.event_types)]
    if view.verification and len(events):
        events = events[events["verification"].astype(str).isin(view.verification)]
    return events


def _draw_zones(ax: Axes, view: MapView, manifest: Mapping, data: MapData) -> list:
    handles: list = []
    for layer_id in zone_layer_ids(manifest):
        if layer_id not in view.layers:
            continue
        meta = manifest["layers"][layer_id]
        style = meta.get("style") or {}
        colour = style.get("color", "#000000")
        frame = data.zones.zones(layer_id, as_of=view.end if is_dated(meta) else None)
        if not len(frame):
            continue
        frame = frame.to_crs(3857)
        dashed: Literal["--", "-"] = "--" if style.get("dash") else "-"
        kind = (meta.get("geometry_type") or "").lower()
        if "polygon" in kind and "controlled_by" in frame.columns:
            handles += _draw_control(ax, frame, meta.get("title", layer_id))
        elif "polygon" in kind:
            frame.plot(
                ax=ax, facecolor=colour, alpha=max(float(style.get("fill_opacity", 0.15)), 0.08), edgecolor="none"
            )
            frame.boundary.plot(ax=ax, color=colour, linewidth=float(style.get("weight", 1.5)), linestyle=dashed)
            handles.append(Patch(facecolor=colour, edgecolor=colour, alpha=0.6, label=meta.get("title", layer_id)))
        elif "line" in kind:
            frame.plot(ax=ax, color=colour, linewidth=float(style.get("weight", 2)), linestyle=dashed)
            handles.append(Line2D([], [], color=colour, linestyle=dashed, label=meta.get("title", layer_id)))
        else:
            frame.plot(ax=ax, color=colour, markersize=4)
            handles.append(Line2D([], [], color=colour, marker="o", linestyle="", label=meta.get("title", layer_id)))
    return handles


def control_colour(controlled_by: object) -> str:
    """The fill of a zone held by ``controlled_by`` (grey when no rule matches).

    Examples
    --------
    >>> control_colour("Armenian forces (Nagorno-Karabakh authorities)"), control_colour("Azerbaijan")
    ('#D55E00', '#0072B2')

    """
    text = str(controlled_by or "").lower()
    return next((colour for word, colour in CONTROL_COLOURS if word in text), "#999999")


def _draw_control(ax: Axes, frame: gpd.GeoDataFrame, title: str) -> list:
    handles: list = []
    for who, part in frame.groupby(frame["controlled_by"].fillna("unknown").astype(str), sort=True):
        colour = control_colour(who)
        part.plot(ax=ax, facecolor=colour, alpha=0.35, edgecolor="#333333", linewidth=0.6)
        handles.append(Patch(facecolor=colour, edgecolor="#333333", alpha=0.6, label=f"{title}: {who}"))
    return handles


def _column(frame: gpd.GeoDataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series([None] * len(frame), index=frame.index)


def _draw_events(ax: Axes, events: gpd.GeoDataFrame) -> list:
    if not len(events):
        return []
    projected = events.to_crs(3857)
    precision = pd.to_numeric(_column(projected, "location_precision"), errors="coerce")
    for point, lat in zip(projected[precision == 2].geometry, events[precision == 2].geometry.y, strict=True):
        # ~25 km drawn honestly: Web Mercator stretches distances by 1/cos(latitude).
        radius = 25_000 / math.cos(math.radians(lat))
        ax.add_patch(Circle((point.x, point.y), radius, fill=False, linestyle=":", color="#0072B2"))
    families = _column(projected, "event_type").map(type_family)
    colours = _column(projected, "verification").map(
        lambda value: VERIFICATION_COLOURS.get(str(value), VERIFICATION_COLOURS["reported"])
    )
    handles: list = []
    if (precision == 2).any():
        handles.append(
            Line2D(
                [],
                [],
                marker="o",
                markersize=10,
                markerfacecolor="none",
                color="#0072B2",
                linestyle="",
                label="Location within ~25 km",
            )
        )
    for family, marker in TYPE_MARKERS.items():
        mask = families == family
        if not mask.any():
            continue
        subset = projected[mask]
        ax.scatter(
            subset.geometry.x,
            subset.geometry.y,
            marker=marker,
            s=40,
            c=list(colours[mask]),
            edgecolors="black",
            linewidths=0.8,
            zorder=5,
        )
        handles.append(
            Line2D(
                [], [], marker=marker, color="black", markerfacecolor="white", linestyle="", label=f"Event: {family}"
            )
        )
    present = set(_column(projected, "verification").astype(str))
    for status, colour in VERIFICATION_COLOURS.items():
        if status in present:
            handles.append(Patch(facecolor=colour, edgecolor="black", label=f"Fill: {status}"))
    return handles


def _decorate(
    fig: Figure, ax: Axes, view: MapView, manifest: Mapping, handles: list, counts: tuple[int, int]
) -> tuple[Artist | None, Artist]:
    """Title, counts, credits and legend; returns the legend (None without handles) and the credits text."""
    count, unmapped = counts
    width, height = fig.get_size_inches() * fig.dpi
    colour = "#eeeeee" if view.dark else "#111111"
    fig.set_facecolor("#111111" if view.dark else "#ffffff")
    fig.text(8 / width, 1 - 6 / height, view.title or DEFAULT_TITLE, fontsize=13, weight="bold", color=colour, va="top")
    when = f"{count:,} reported events {date_phrase(view.start, view.end)}"
    if unmapped:
        when += f" ({unmapped:,} more located only to the country or in waters/airspace: not drawn)"
    fig.text(8 / width, 1 - 30 / height, when, fontsize=10, color=colour, va="top")
    credits = "Zones: " + attribution_text(manifest) + " Events: see each event's sources. Basemap: none."
    wrapped = "\n".join(textwrap.wrap(credits, width=max(40, int(width / 4.4)))[:4])
    credits_text = fig.text(
        8 / width, (FOOTER_PX - 3) / height, wrapped, fontsize=6, color=colour, va="top", linespacing=1.2
    )
    legend = ax.legend(handles=handles, loc="lower right", fontsize=7, framealpha=0.9) if handles else None
    return legend, credits_text
