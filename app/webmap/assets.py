"""Whether the map's front-end files (Leaflet and its plugins, copied from the npm registry) are installed.

They are copied into ``app/static/vendor/`` when the package is built (setup.py) or by ``make vendor`` in a
checkout, never at run time; without them a map page would load no script and show nothing, so the pages are
refused with a message saying what is missing and how to get it.
"""

from __future__ import annotations

import functools
import hashlib
from pathlib import Path

from app import __version__
from app.webmap import builder, elements
from app.webmap.elements import TEMPLATES, vendor_css, vendor_js

#: The folder the service serves under /static.
STATIC_DIR = Path(__file__).resolve().parent.parent / "static"


def missing_vendor_files(static_dir: Path = STATIC_DIR) -> list[str]:
    """The vendored files the map pages load that are not in ``static_dir``, relative to it.

    Examples
    --------
    >>> missing_vendor_files(STATIC_DIR.parent / "no-such-folder")[0]
    'vendor/leaflet/leaflet.js'

    """
    wanted = [url.lstrip("/") for _, url in [*vendor_js(""), *vendor_css("")] if url.startswith("/vendor/")]
    return [path for path in wanted if not (static_dir / path).is_file()]


def vendor_problem(static_dir: Path = STATIC_DIR) -> str | None:
    """A message naming the missing front-end files and how to install them, or None when all are there."""
    missing = missing_vendor_files(static_dir)
    if not missing:
        return None
    return (
        f"the map's front-end files are missing from {static_dir}: {', '.join(missing)}; in a checkout run "
        "`make vendor` (scripts/vendor-assets.sh, needs npm), otherwise reinstall a package built with npm available"
    )


@functools.cache
def page_code_version() -> str:
    """A fingerprint of the code a map page is made of: its template, builder, elements and our script and styles.

    Part of the pages' ETag, so a browser or proxy holding a page revalidates it to a new one after an upgrade,
    even when the layers did not change.
    """
    digest = hashlib.sha256(__version__.encode())
    files = [TEMPLATES / "map_page.html", Path(builder.__file__), Path(elements.__file__)]
    for path in [*files, *sorted((STATIC_DIR / "webmap").glob("*"))]:
        if path.is_file():
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]
