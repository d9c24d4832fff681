"""Attribution lines for every layer's sources, escaped for Leaflet's attribution control (which takes HTML)."""

from __future__ import annotations

from html import escape
from urllib.parse import urlsplit

from geodata.manifest import Manifest


def is_web_url(url: object) -> bool:
    """Whether ``url`` is an absolute http(s) URL (anything else is never turned into a link).

    Examples
    --------
    >>> is_web_url("https://creativecommons.org/licenses/by-sa/3.0/"), is_web_url("javascript:alert(1)")
    (True, False)

    """
    if not isinstance(url, str):
        return False
    parts = urlsplit(url.strip())
    return parts.scheme in ("http", "https") and bool(parts.netloc)


def source_credits(manifest: Manifest) -> list[tuple[str, str, str]]:
    """Unique ``(attribution, licence, licence_url)`` of every source of every layer, in manifest order."""
    seen: dict[tuple[str, str, str], None] = {}
    for layer in manifest.layers.values():
        for source in layer.sources:
            key = (
                str(source.get("attribution") or "").strip(),
                str(source.get("licence") or "").strip(),
                str(source.get("licence_url") or "").strip(),
            )
            if key[0]:
                seen.setdefault(key, None)
    return list(seen)


def attribution_html(manifest: Manifest) -> list[str]:
    """One escaped HTML snippet per unique source: its attribution text and a link to its licence.

    Examples
    --------
    >>> source = {"attribution": "<b>X</b>", "licence": "CC BY 4.0", "licence_url": "https://example.org/l"}
    >>> layer = {"id": "a", "title": "A", "version": "1", "geometry_type": "Polygon", "bbox": (0, 0, 1, 1),
    ...          "licence": {"name": "CC BY 4.0"}, "files": {}, "sources": [source]}
    >>> attribution_html(Manifest.model_validate({"layers": {"a": layer}}))
    ['&lt;b&gt;X&lt;/b&gt; (<a href="https://example.org/l" target="_blank" rel="noopener">CC BY 4.0</a>)']

    """
    lines = []
    for text, licence, url in source_credits(manifest):
        line = escape(text.rstrip(".") if licence and licence not in text else text)
        if licence and licence not in text:
            label = escape(licence)
            link = f'<a href="{escape(url)}" target="_blank" rel="noopener">{label}</a>' if is_web_url(url) else label
            line = f"{line} ({link})"
        lines.append(line)
    return lines


def attribution_text(manifest: Manifest) -> str:
    """Plain-text credits of every source (for the static image)."""
    parts = []
    for text, licence, _url in source_credits(manifest):
        parts.append(text if not licence or licence in text else f"{text.rstrip('.')} ({licence})")
    return "; ".join(parts)
