"""The README's screenshots of the map (docs/img/map-desktop.png, map-phone.png) are taken here.

``CZMAP_UPDATE_SCREENSHOTS=1`` writes them; otherwise the test takes them again and checks the committed files
against the fresh ones: same size, a PNG, and a map drawn (not a blank or an error page), so the README never
shows a screen the tests cannot reproduce.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import Any

import pytest
from mapsupport import LiveServer, PageWatch, open_map, watch_page
from PIL import Image

DOCS_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
#: The view of the README: the war's October, the zones and the curated events.
VIEW = "/map?datetime=2020-10-01/2020-10-31"
SIZES = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}
UPDATE = os.environ.get("CZMAP_UPDATE_SCREENSHOTS") == "1"


def colours(png: bytes) -> int:
    """How many distinct colours the image has (a blank page has a handful, a drawn map thousands)."""
    image = Image.open(io.BytesIO(png)).convert("RGB")
    return len(image.getcolors(maxcolors=1 << 20) or [])


def screenshot(browser: Any, url: str, size: dict[str, int]) -> tuple[bytes, PageWatch]:
    phone = size["width"] < 600
    context = browser.new_context(viewport=size, device_scale_factor=1, has_touch=phone, is_mobile=phone)
    try:
        watch = watch_page(context)
        page = open_map(watch, url)
        page.wait_for_function("() => document.querySelector('.folium-map').hasAttribute('data-zone-control-2020')")
        page.wait_for_timeout(500)  # let the canvas finish drawing
        return page.screenshot(), watch
    finally:
        context.close()


@pytest.mark.parametrize("name", list(SIZES))
def test_readme_screenshot(seeded_server: LiveServer, browser: Any, name: str) -> None:
    size = SIZES[name]
    fresh, watch = screenshot(browser, f"{seeded_server.url}{VIEW}", size)
    assert watch.errors == []
    assert Image.open(io.BytesIO(fresh)).size == (size["width"], size["height"])
    assert colours(fresh) > 500, "the map looks blank"
    path = DOCS_IMG / f"map-{name}.png"
    if UPDATE:
        DOCS_IMG.mkdir(parents=True, exist_ok=True)
        path.write_bytes(fresh)
    committed = path.read_bytes()
    assert Image.open(io.BytesIO(committed)).format == "PNG"
    assert Image.open(io.BytesIO(committed)).size == Image.open(io.BytesIO(fresh)).size
    assert colours(committed) > 500
