"""Whether the map's front-end files (Leaflet and its plugins, copied from the npm registry) are installed.

They are copied into ``app/static/vendor/`` when the package is built (setup.py) or by ``make vendor`` in a
checkout, never at run time; without them a map page would load no script and show nothing, so the pages are
refused with a message saying what is missing and how to get it.
"""

from __future__ import annotations

from pathlib import Path

from app.webmap.elements import vendor_css, vendor_js

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
