"""The caveats that apply to one answer, as short sentences for its ``notes``.

Each function looks at what the answer actually contains (the layers used, the points near a coarse edge, the
points outside every zone, the population estimate) and says only what applies: a planner reads the notes of
the answer in hand, not a general disclaimer.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from app.analysis.classify import Classification, Membership
from app.analysis.dated import DEFAULT_DAY_REASON, LayerInfos, Period, is_dated
from app.analysis.population import PopulationRaster
from app.layerstore.zones import ZoneLayer


def period_caveats(period: Period, layers: Iterable[ZoneLayer]) -> list[str]:
    """Which day the dated layers are answered for, and that undated ones do not change."""
    dated = [layer.id for layer in layers if is_dated(layer)]
    if not dated:
        return []
    text = f"dated layers ({', '.join(dated)}) are answered for {period.as_dict()['datetime']}"
    if period.default:
        text += f", the default: {DEFAULT_DAY_REASON} (ask for another day with datetime=YYYY-MM-DD)"
    return [text + "; each place has one state of a dated layer per day"]


def layer_caveats(layers: Iterable[ZoneLayer], infos: LayerInfos) -> list[str]:
    """Schematic layers, named with their accuracy."""
    notes = []
    for layer in layers:
        info = infos.get(layer.id)
        if info.schematic:
            notes.append(
                f"{layer.id} is SCHEMATIC ('{layer.title}'): edges may be off by {info.accuracy_m / 1000:g} km or "
                f"more; {info.accuracy_note}"
            )
    return notes


def near_edge_caveats(result: Classification, infos: LayerInfos, radius_m: np.ndarray | None) -> list[str]:
    """Points 'possibly inside' a zone only because that layer's edges are coarse (not their own precision)."""
    notes = []
    for layer in result.layers:
        accuracy = infos.accuracy_m(layer.id)
        if accuracy <= 0:
            continue
        possibly = (result.membership[layer.id] == Membership.POSSIBLY_INSIDE).any(axis=0)
        count = int(possibly.sum())
        if count:
            notes.append(
                f"{count} of {possibly.size} points lie within {accuracy / 1000:g} km (the positional accuracy of "
                f"{layer.id}{'' if radius_m is None else ', plus their own precision'}) of a zone edge: 'possibly "
                "inside' there, since the boundary may run on either side of them"
            )
    return notes


def outside_caveats(result: Classification, ids: list[object]) -> list[str]:
    """Points that are in no zone of any selected layer: outside the study area."""
    if not result.layers:
        return []
    anywhere = np.zeros(result.membership[result.layers[0].id].shape[1], dtype=bool)
    for layer in result.layers:
        anywhere |= (result.membership[layer.id] > Membership.OUTSIDE).any(axis=0)
    outside = np.flatnonzero(~anywhere)
    if not outside.size:
        return []
    shown = ", ".join(repr(ids[i]) for i in outside[:10]) + (" ..." if outside.size > 10 else "")
    return [
        f"{outside.size} points lie outside the study area (in no zone of {', '.join(lay.id for lay in result.layers)}"
        f"): {shown}; their distances are still given"
    ]


def distance_caveats(result: Classification) -> list[str]:
    """Distances to lines carry a margin: the line's accuracy plus the point's radius."""
    notes = []
    for name, margin in (
        ("line_of_contact_km", result.line_of_contact_margin_km),
        ("iran_border_km", result.iran_border_margin_km),
    ):
        if margin is not None and margin.size and float(margin.max()) > 0:
            notes.append(f"{name} is +/- {name.replace('_km', '_margin_km')} (the line's accuracy plus the point's)")
    if result.iran_border_km is not None:
        notes.append(
            "iran_border_km is the distance to the Azerbaijan-Iran border (layer iran-border), not to the "
            "Armenia-Iran border: for a site in Armenia it is not its distance to Iran"
        )
    if result.line_of_contact_km is not None:
        notes.append(
            "line_of_contact_km is to the 1994-2020 line of contact (Natural Earth 1:10m), not to the front line of "
            "10 November 2020, which this service draws only schematically (control-2020)"
        )
    return notes


def population_caveats(raster: PopulationRaster | None) -> list[str]:
    """Indicative population and its date, when population figures are in the answer."""
    if raster is None:
        return ["no population raster is configured: population is omitted"]
    return [f"population is indicative: {raster.info.caveat}"]
