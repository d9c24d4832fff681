"""Folium elements of the map, one Leaflet element per class.

Each template is a line or two that hands JSON options (escaped by ``tojson``) to a function in
``app/static/webmap/czmap.js``; the page carries no data, only URLs the script fetches GeoJSON from.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import folium
from branca.element import Figure, MacroElement
from folium.template import Template

#: The HTML pages' templates (app/templates/).
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def vendor_js(static_url: str) -> list[tuple[str, str]]:
    """Scripts served from our own origin (never a CDN), in load order."""
    return [
        ("leaflet", f"{static_url}/vendor/leaflet/leaflet.js"),
        ("markercluster", f"{static_url}/vendor/leaflet.markercluster/leaflet.markercluster.js"),
        ("vectorgrid", f"{static_url}/vendor/leaflet.vectorgrid/Leaflet.VectorGrid.bundled.min.js"),
        ("minimap", f"{static_url}/vendor/leaflet-minimap/Control.MiniMap.min.js"),
        ("czmap", f"{static_url}/webmap/czmap.js"),
    ]


def vendor_css(static_url: str) -> list[tuple[str, str]]:
    """Style sheets served from our own origin."""
    return [
        ("leaflet_css", f"{static_url}/vendor/leaflet/leaflet.css"),
        ("markercluster_css", f"{static_url}/vendor/leaflet.markercluster/MarkerCluster.css"),
        ("markercluster_default_css", f"{static_url}/vendor/leaflet.markercluster/MarkerCluster.Default.css"),
        ("minimap_css", f"{static_url}/vendor/leaflet-minimap/Control.MiniMap.min.css"),
        ("czmap_css", f"{static_url}/webmap/czmap.css"),
    ]


class MapPage(Figure):
    """The HTML document: language, escaped title, body class and one inline script, allowed by its hash."""

    _template = Template((TEMPLATES / "map_page.html").read_text(encoding="utf-8"))

    def __init__(self, page_title: str, body_class: str, oembed_url: str | None = None) -> None:
        super().__init__(width="100%", height="100%")
        self.page_title = page_title
        self.body_class = body_class
        self.oembed_url = oembed_url

    def render_with_script_hash(self) -> tuple[str, str]:
        """The page's HTML and the Content-Security-Policy source that allows its inline script (``'sha256-…'``).

        The hash is taken of exactly the text placed between ``<script>`` and ``</script>``, as the browser hashes
        it; a script that reached the page any other way (an escaping bug) has another hash and does not run.
        """
        for child in self._children.values():
            child.render()
        script = "\n" + self.script.render() + "\n"
        digest = base64.b64encode(hashlib.sha256(script.encode("utf-8")).digest()).decode("ascii")
        return self._template.render(this=self, kwargs={}, inline_script=script), f"'sha256-{digest}'"


class ConflictMap(folium.Map):
    """The Leaflet map with canvas rendering, a metric scale bar and the shared context (view state, controls)."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
            <meta name="viewport" content="width=device-width, initial-scale=1" />
            <link rel="icon" href="data:," />
        {% endmacro %}
        {% macro html(this, kwargs) %}
            <div class="folium-map" id={{ this.get_name()|tojson }}></div>
        {% endmacro %}
        {% macro script(this, kwargs) %}
            var {{ this.get_name() }} = L.map({{ this.get_name()|tojson }}, {{ this.leaflet_options|tojson }});
            L.control.scale({imperial: false}).addTo({{ this.get_name() }});
            var {{ this.get_name() }}_ctx = czmap.context({{ this.get_name() }}, {{ this.config|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, *, center: tuple[float, float], zoom: int, static_url: str, config: dict[str, Any]) -> None:
        super().__init__(location=list(center), zoom_start=zoom, tiles=None)
        self.default_js = vendor_js(static_url)
        self.default_css = vendor_css(static_url)
        self.config = config
        self.leaflet_options = {
            "center": list(center),
            "zoom": zoom,
            "minZoom": 4,
            "maxZoom": 18,
            "preferCanvas": True,
            "keyboard": True,
        }


class _ContextCall(MacroElement):
    """An element whose script is ``czmap.<function>(<map>_ctx, <options>)``."""

    function = ""
    _template = Template(
        """
        {% macro script(this, kwargs) %}
            czmap.{{ this.function }}({{ this._parent.get_name() }}_ctx, {{ this.options|tojson }});
        {% endmacro %}
        """
    )

    def __init__(self, **options: Any) -> None:
        super().__init__()
        self._name = type(self).__name__
        self.options = options


class Basemaps(_ContextCall):
    """The backgrounds a reader can switch between (offline layer, tiles, none); only the one shown is credited."""

    function = "basemaps"


class ZoneLayer(_ContextCall):
    """A zone layer loaded as GeoJSON from ``/collections/{id}/items`` (display variant per zoom, dated per date)."""

    function = "zoneLayer"


class EventLayer(_ContextCall):
    """Reported events, loaded for the visible bbox and dates, clustered, one popup per event.

    A view with more than ``tilesAbove`` events draws them from the event vector tiles instead.
    """

    function = "eventLayer"


class TimeControl(_ContextCall):
    """Date range inputs that filter events and switch the dated layers."""

    function = "timeControl"


class FilterControl(_ContextCall):
    """Check boxes filtering events by type and by verification status (labelled, keyboard usable)."""

    function = "filterControl"


class Legend(_ContextCall):
    """Legend of zone colours, event symbols and location precision."""

    function = "legend"


class Title(_ContextCall):
    """The map's title (set as text, never as HTML)."""

    function = "title"


class Fullscreen(_ContextCall):
    """A button that shows the map full screen."""

    function = "fullscreen"


class MeasureControl(_ContextCall):
    """A distance measuring tool (geodesic, in km)."""

    function = "measure"


class MiniMap(_ContextCall):
    """An overview map (basemap tiles, or the zone outlines with ``basemap=none``)."""

    function = "minimap"
