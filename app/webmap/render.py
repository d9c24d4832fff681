"""Static image of a map view (PNG, SVG or PDF; matplotlib/geopandas, no tile server).

Our offline basemap with country and place names, zones, events, a scale bar, a legend beside the map (never
over the data), date and credits.
"""

from __future__ import annotations

import io
import math
import textwrap
import threading
from dataclasses import dataclass
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd
from matplotlib import colormaps, patheffects
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.legend import Legend
from matplotlib.lines import Line2D
from matplotlib.patches import Circle, Patch
from pyproj import Transformer

from app.webmap.alttext import alt_text, count_by_stored_zone, date_phrase, sentence
from app.webmap.attribution import attribution_text
from app.webmap.builder import DEFAULT_TITLE, is_dated, layer_day, zone_layer_ids, zone_manifest
from app.webmap.errors import InvalidViewError
from app.webmap.sources import CountedEvents, EventDensity, MapData, ViewFilter
from app.webmap.view import BASEMAP_LAYER, EVENTS, MapView
from geodata.manifest import Manifest

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
#: Output formats: matplotlib's name -> media type.
FORMATS = {"png": "image/png", "svg": "image/svg+xml", "pdf": "application/pdf"}
#: Most events drawn one marker each; above it the image draws how many events fall in each hexagonal cell (one
#: artist whatever the count: 100,000 markers and their uncertainty circles took 95 of 130 s under a profiler).
MAX_MARKERS = 2_000
#: Hexagons across the map when events are aggregated.
DENSITY_GRID = 48
#: Square cells across one hexagon when a store counts the events per cell for the hexagons (the finer, the
#: closer each event lands to its own hexagon).
CELLS_PER_HEX = 4
ImageFormat = Literal["png", "svg", "pdf"]
#: The legend panel beside the map: a share of the width, within these bounds in pixels.
LEGEND_SHARE, LEGEND_MIN_PX, LEGEND_MAX_PX = 0.27, 120, 270
#: Offline basemap colours (as the web map's).
BASEMAP_COLOURS = {
    False: {"sea": "#d7e3ea", "land": "#f2efe9", "border": "#7a6e8a", "river": "#6baed6", "text": "#333333"},
    True: {"sea": "#15202a", "land": "#2e2e2e", "border": "#a49bb3", "river": "#3f7fa8", "text": "#dddddd"},
}


@dataclass(frozen=True)
class StaticMap:
    """A rendered image and the alt text written from the same data (boxes in pixels of the PNG layout)."""

    png: bytes  # the image bytes, in ``media_type`` (PNG unless another format was asked for)
    alt: str
    event_count: int
    unmapped_count: int = 0
    legend_box: PixelBox | None = None
    credits_box: PixelBox | None = None
    map_box: PixelBox | None = None
    media_type: str = "image/png"
    scale_km: float | None = None
    #: True when more than :data:`MAX_MARKERS` events were drawn as counts per cell instead of markers.
    aggregated: bool = False
    #: The events the drawn hexagonal cells add up to (None when events are drawn one by one).
    cell_total: int | None = None


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


def view_filter(view: MapView, width: int, height: int) -> ViewFilter:
    """Which events ``view`` shows at ``width`` x ``height`` pixels: its box in degrees, dates and filters."""
    check_size(width, height)
    x0, y0, x1, y1 = view_bounds(view, width, height)
    west, south = TO_MERCATOR.transform(x0, y0, direction="INVERSE")
    east, north = TO_MERCATOR.transform(x1, y1, direction="INVERSE")
    return ViewFilter(
        (west, south, east, north), view.start, view.end, tuple(view.event_types), tuple(view.verification)
    )


def view_events(view: MapView, data: MapData, width: int, height: int) -> gpd.GeoDataFrame:
    """The events ``view`` shows at ``width`` x ``height`` pixels (bbox, dates and filters applied)."""
    where = view_filter(view, width, height)
    return _filtered_events(view, data, where.bbox) if EVENTS in view.layers else _empty()


def view_density(view: MapView, data: MapData, width: int, height: int) -> EventDensity | None:
    """The events of ``view`` counted by their store (per cell, per zone) when it holds more than it draws.

    None when the view has no events layer, the source cannot count, or few enough events match to read them.
    """
    where = view_filter(view, width, height)
    if EVENTS not in view.layers or not isinstance(data.events, CountedEvents):
        return None
    x0, _, x1, _ = view_bounds(view, width, height)
    return data.events.density(where, (x1 - x0) / (DENSITY_GRID * CELLS_PER_HEX), UNMAPPED_PRECISION)


def view_alt(view: MapView, data: MapData, width: int, height: int) -> str:
    """The alt text of ``view`` at ``width`` x ``height`` pixels (the image's own), without drawing it."""
    density = view_density(view, data, width, height)
    if density is not None:
        return describe_density(view, data, density)
    return describe(view, data, view_events(view, data, width, height))


def split_unmapped(events: gpd.GeoDataFrame) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame]:
    """``(drawn, unmapped)``: events located better than the country, and the rest (never drawn as points)."""
    precision = pd.to_numeric(_column(events, "location_precision"), errors="coerce").fillna(1)
    unmapped = precision >= UNMAPPED_PRECISION
    return events[~unmapped], events[unmapped]


def describe(view: MapView, data: MapData, events: gpd.GeoDataFrame) -> str:
    """The alt text of ``view`` showing ``events``: it counts the events drawn, and names those that are not."""
    drawn, unmapped = split_unmapped(events)
    text = alt_text(drawn, data.zones.index, view.start, view.end)
    if len(unmapped):
        text += f" {unmapped_phrase(len(unmapped))}"
    return text


def describe_density(view: MapView, data: MapData, density: EventDensity) -> str:
    """:func:`describe` of events counted by their store: the zones are the events' stored zones."""
    text = sentence(density.drawn, count_by_stored_zone(density.zones, data.zones.index), view.start, view.end)
    if density.unmapped:
        text += f" {unmapped_phrase(density.unmapped)}"
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


def render_png(
    view: MapView,
    manifest: Manifest,
    data: MapData,
    *,
    width: int = 1200,
    height: int = 800,
    fmt: ImageFormat = "png",
) -> StaticMap:
    """Render ``view`` to an image with its legend, scale, date and attribution, and write its alt text.

    Parameters
    ----------
    view : MapView
        Centre, zoom, dates, layers and filters.
    manifest : Manifest
        The typed layer manifest (titles, styles, sources).
    data : MapData
        Where zones and events are read from.
    width, height : int
        Image size in pixels (200 to 3000; SVG and PDF at 100 pixels an inch).
    fmt : {"png", "svg", "pdf"}
        Output format.

    Returns
    -------
    StaticMap

    """
    if fmt not in FORMATS:
        raise InvalidViewError("format", f"{str(fmt)[:20]!r} is not one of {', '.join(FORMATS)}")
    with _RENDER_LOCK:
        try:
            return _render(view, manifest, data, width, height, fmt)
        finally:
            forget_geopandas_legend_handlers()


#: One render at a time per process: the legend handler map pruned after a render is global to matplotlib.
_RENDER_LOCK = threading.Lock()


def forget_geopandas_legend_handlers() -> int:
    """Drop the legend handlers geopandas registered while plotting; return how many.

    geopandas (1.2) defines a new ``_GeoPandasPolyCollection`` class on every polygon ``plot`` and registers it in
    matplotlib's global ``Legend`` handler map, so each rendered map kept its classes (tens of kB each, with
    their generated signatures and docstrings) for the life of the process: the memory of a server drawing
    images grew without bound (tracemalloc: matplotlib/artist.py and inspect.py the largest growth).
    """
    handlers = Legend.get_default_handler_map()
    stale = [cls for cls in handlers if getattr(cls, "__name__", "") == "_GeoPandasPolyCollection"]
    if stale:
        Legend.set_default_handler_map({k: v for k, v in handlers.items() if k not in stale})
    return len(stale)


def _render(view: MapView, manifest: Manifest, data: MapData, width: int, height: int, fmt: ImageFormat) -> StaticMap:
    density = view_density(view, data, width, height)
    matched = view_events(view, data, width, height) if density is None else _empty()
    events, unmapped = split_unmapped(matched)
    map_px = height - HEADER_PX - FOOTER_PX
    legend_px = legend_width(width)
    map_w = width - legend_px
    x0, y0, x1, y1 = view_bounds(view, map_w, map_px)
    fig = Figure(figsize=(width / 100, height / 100), dpi=100)
    ax = fig.add_axes((0.0, FOOTER_PX / height, map_w / width, map_px / height))
    ax.set_facecolor("#1b1b1b" if view.dark else "#f4f1ea")
    offline = view.basemap != "none" and BASEMAP_LAYER in manifest.layers
    if offline:
        _draw_basemap(ax, view, data, (x0, y0, x1, y1))
    if density is None:
        drawn, cell_total = _draw_events(ax, events)
        counts, alt = (len(events), len(unmapped)), describe(view, data, matched)
    else:
        drawn, cell_total = _draw_density(ax, density.x, density.y, density.counts)
        counts, alt = (density.drawn, density.unmapped), describe_density(view, data, density)
    handles = _draw_zones(ax, view, manifest, data) + drawn
    scale_km = _scale_bar(ax, view, (x0, y0, x1, y1))
    ax.set_xlim(x0, x1)
    ax.set_ylim(y0, y1)
    ax.set_aspect("equal", adjustable="box")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    legend, credits = _decorate(fig, ax, view, manifest, handles, counts, offline)
    buffer = io.BytesIO()
    fig.savefig(buffer, format=fmt, dpi=100, facecolor=fig.get_facecolor(), metadata=_metadata(view, fmt))
    return StaticMap(
        png=buffer.getvalue(),
        alt=alt,
        event_count=counts[0],
        unmapped_count=counts[1],
        legend_box=_pixel_box(fig, legend),
        credits_box=_pixel_box(fig, credits),
        map_box=_pixel_box(fig, ax),
        media_type=FORMATS[fmt],
        scale_km=scale_km,
        aggregated=cell_total is not None,
        cell_total=cell_total,
    )


def legend_width(width: int) -> int:
    """Pixels of the legend panel beside the map.

    Examples
    --------
    >>> legend_width(1200), legend_width(300), legend_width(3000)
    (270, 120, 270)

    """
    return int(min(LEGEND_MAX_PX, max(LEGEND_MIN_PX, width * LEGEND_SHARE)))


def _metadata(view: MapView, fmt: str) -> dict[str, str]:
    title = view.title or DEFAULT_TITLE
    if fmt == "png":
        return {"Title": title, "Software": "conflict-zone-map"}
    if fmt == "pdf":
        return {"Title": title, "Creator": "conflict-zone-map"}
    return {"Title": title}


def nice_length_km(span_km: float) -> float:
    """A round scale-bar length (1, 2 or 5 times a power of ten) of at most a fifth of ``span_km``.

    Examples
    --------
    >>> nice_length_km(430), nice_length_km(60), nice_length_km(3)
    (50.0, 10.0, 0.5)

    """
    target = span_km / 5
    power = 10 ** math.floor(math.log10(target))
    return float(max(step * power for step in (1, 2, 5) if step * power <= target))


def _scale_bar(ax: Axes, view: MapView, bounds: tuple[float, float, float, float]) -> float:
    """A scale bar true at the centre latitude (Web Mercator stretches by 1/cos(latitude)); returns its km."""
    x0, y0, x1, y1 = bounds
    stretch = 1 / math.cos(math.radians(view.lat))
    km = nice_length_km((x1 - x0) / stretch / 1000)
    length = km * 1000 * stretch
    left, base = x0 + 0.03 * (x1 - x0), y0 + 0.04 * (y1 - y0)
    colour = "#eeeeee" if view.dark else "#111111"
    halo = [patheffects.withStroke(linewidth=3, foreground="#000000" if view.dark else "#ffffff")]
    ax.plot(
        [left, left + length],
        [base, base],
        color=colour,
        linewidth=3,
        solid_capstyle="butt",
        zorder=8,
        path_effects=halo,
    )
    label = f"{km:g} km"
    ax.text(
        left + length / 2,
        base + 0.012 * (y1 - y0),
        label,
        ha="center",
        va="bottom",
        fontsize=8,
        color=colour,
        zorder=8,
        path_effects=halo,
    )
    return km


def _draw_basemap(ax: Axes, view: MapView, data: MapData, bounds: tuple[float, float, float, float]) -> None:
    """Our offline basemap: land, borders, rivers, country names and the place labels of the view's zoom."""
    colours = BASEMAP_COLOURS[view.dark]
    ax.set_facecolor(colours["sea"])
    frame = data.zones.zones(BASEMAP_LAYER).to_crs(3857)
    kind = frame["kind"]
    land = frame[kind == "land"]
    if len(land):
        land.plot(ax=ax, facecolor=colours["land"], edgecolor="none", zorder=0)
    for part, style in (("river", {"linewidth": 1.0}), ("border", {"linewidth": 1.0, "linestyle": (0, (6, 2, 1, 2))})):
        lines = frame[kind == part]
        if len(lines):
            lines.plot(ax=ax, color=colours[part], zorder=1, **style)
    x0, y0, x1, y1 = bounds
    halo = [patheffects.withStroke(linewidth=2.5, foreground="#000000" if view.dark else "#ffffff")]
    for row in frame[kind == "country-label"].itertuples():
        x, y = row.geometry.x, row.geometry.y
        if x0 <= x <= x1 and y0 <= y <= y1:
            ax.text(
                x,
                y,
                str(row.name).upper(),
                ha="center",
                va="center",
                fontsize=9,
                color=colours["border"],
                weight="bold",
                zorder=7,
                path_effects=halo,
                clip_on=True,
            )
    places = frame[(kind == "place-label") & (frame["min_zoom"] <= view.zoom)]
    for row in places.itertuples():
        x, y = row.geometry.x, row.geometry.y
        if x0 <= x <= x1 and y0 <= y <= y1:
            ax.plot([x], [y], marker="o", markersize=2.5, color=colours["text"], zorder=7)
            ax.annotate(
                str(row.name),
                (x, y),
                xytext=(3, 2),
                textcoords="offset points",
                fontsize=7,
                color=colours["text"],
                zorder=7,
                path_effects=halo,
                annotation_clip=True,
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


def _draw_zones(ax: Axes, view: MapView, manifest: Manifest, data: MapData) -> list:
    handles: list = []
    for layer_id in zone_layer_ids(manifest):
        if layer_id not in view.layers:
            continue
        meta = manifest.layers[layer_id]
        style = meta.style
        colour = style.get("color", "#000000")
        day, last_day = layer_day(meta, view.start, view.end)
        frame = data.zones.zones(layer_id, as_of=day if is_dated(meta) else None)
        if not len(frame):
            continue
        frame = frame.to_crs(3857)
        dashed: Literal["--", "-"] = "--" if style.get("dash") else "-"
        title = (meta.title or layer_id) + (f" (as on {day.isoformat()}, its last day)" if last_day else "")
        kind = meta.geometry_type.lower()
        if "polygon" in kind and "controlled_by" in frame.columns:
            handles += _draw_control(ax, frame, title)
        elif "polygon" in kind:
            frame.plot(
                ax=ax, facecolor=colour, alpha=max(float(style.get("fill_opacity", 0.15)), 0.08), edgecolor="none"
            )
            frame.boundary.plot(ax=ax, color=colour, linewidth=float(style.get("weight", 1.5)), linestyle=dashed)
            handles.append(Patch(facecolor=colour, edgecolor=colour, alpha=0.6, label=title))
        elif "line" in kind:
            frame.plot(ax=ax, color=colour, linewidth=float(style.get("weight", 2)), linestyle=dashed)
            handles.append(Line2D([], [], color=colour, linestyle=dashed, label=title))
        else:
            frame.plot(ax=ax, color=colour, markersize=4)
            handles.append(Line2D([], [], color=colour, marker="o", linestyle="", label=title))
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
        handles.append(Patch(facecolor=colour, edgecolor="#333333", alpha=0.6, label=f"Held by {who}"))
    return handles


def _legend_panel(fig: Figure, view: MapView, handles: list, colour: str) -> Artist:
    """The legend in the panel right of the map, in the largest type (7, 6 or 5 pt) that fits above the footer."""
    width, height = fig.get_size_inches() * fig.dpi
    panel_px = legend_width(int(width))
    labels = [str(handle.get_label()) for handle in handles]
    renderer = FigureCanvasAgg(fig).get_renderer()
    legend: Artist | None = None
    for fontsize in (7, 6, 5):
        if legend is not None:
            legend.remove()
        chars = max(10, int((panel_px - 50) / (0.8 * fontsize)))  # about the glyph width at that size
        for handle, label in zip(handles, labels, strict=True):
            handle.set_label("\n".join(textwrap.wrap(label, chars)))
        legend = fig.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1 - (panel_px - 4) / width, 1 - HEADER_PX / height),
            fontsize=fontsize,
            framealpha=1.0,
            borderaxespad=0.0,
            labelcolor=colour,
            facecolor="#1e1e1e" if view.dark else "#ffffff",
            edgecolor="#888888",
        )
        if legend.get_window_extent(renderer).y0 >= FOOTER_PX:
            break
    assert legend is not None
    return legend


def _column(frame: gpd.GeoDataFrame, name: str) -> pd.Series:
    return frame[name] if name in frame.columns else pd.Series([None] * len(frame), index=frame.index)


def _draw_events(ax: Axes, events: gpd.GeoDataFrame) -> tuple[list, int | None]:
    """Legend handles, and the events the hexagonal cells add up to when there are too many to draw one by one."""
    if not len(events):
        return [], None
    projected = events.to_crs(3857)
    if len(projected) > MAX_MARKERS:
        return _draw_density(ax, projected.geometry.x.to_numpy(), projected.geometry.y.to_numpy(), None)
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
    return handles, None


def _draw_density(ax: Axes, x: np.ndarray, y: np.ndarray, weights: np.ndarray | None) -> tuple[list, int]:
    """Events as counts per hexagonal cell (log colour scale, colour-blind-safe cividis), one legend entry.

    ``x``, ``y`` are events (``weights`` None) or the centres of cells holding ``weights`` events each. Returns
    the legend handles and the events the drawn hexagons add up to.
    """
    cells = ax.hexbin(
        x,
        y,
        C=weights,
        reduce_C_function=np.sum,
        gridsize=DENSITY_GRID,
        mincnt=1,
        bins="log",
        cmap="cividis_r",
        linewidths=0.2,
        edgecolors="#555555",
        alpha=0.6,  # the zones stay readable under the cells
        zorder=5,
    )
    total = int(np.asarray(cells.get_array()).sum())
    label = f"Events per cell (darker: more; {total:,} events are counted, not drawn one by one)"
    return [Patch(facecolor=colormaps["cividis_r"](0.8), edgecolor="#555555", label=label)], total


def _decorate(
    fig: Figure, ax: Axes, view: MapView, manifest: Manifest, handles: list, counts: tuple[int, int], offline: bool
) -> tuple[Artist | None, Artist]:
    """Title, counts, credits and the legend beside the map.

    Returns the legend (None without handles) and the credits text.
    """
    count, unmapped = counts
    width, height = fig.get_size_inches() * fig.dpi
    colour = "#eeeeee" if view.dark else "#111111"
    fig.set_facecolor("#111111" if view.dark else "#ffffff")
    size = 13 if width >= 700 else 10
    heading = textwrap.shorten(view.title or DEFAULT_TITLE, width=max(20, int(width / (size * 0.8))), placeholder="…")
    fig.text(8 / width, 1 - 6 / height, heading, fontsize=size, weight="bold", color=colour, va="top")
    when = f"{count:,} reported {'event' if count == 1 else 'events'} {date_phrase(view.start, view.end)}"
    if unmapped:
        when += f" ({unmapped:,} more located only to the country or in waters/airspace: not drawn)"
    fig.text(8 / width, 1 - 30 / height, when, fontsize=10 if width >= 700 else 8, color=colour, va="top")
    # every source once (zones and basemap share Natural Earth and GeoNames)
    shown = manifest if offline else zone_manifest(manifest)
    basemap = "our own, from these sources" if offline else "none"
    credits = f"Sources: {attribution_text(shown)}. Events: see each event's sources. Basemap: {basemap}."
    wrapped = "\n".join(textwrap.wrap(credits, width=max(40, int(width / 6.2)))[:4])
    credits_text = fig.text(
        8 / width, (FOOTER_PX - 3) / height, wrapped, fontsize=6, color=colour, va="top", linespacing=1.2
    )
    legend = _legend_panel(fig, view, handles, colour) if handles else None
    return legend, credits_text
