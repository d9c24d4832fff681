"""The map routes of create_app (lifespan run, events in its SQLite store): HTML, CSP, escaping, bad input, PNG,
alt text, embed code."""

from __future__ import annotations

import base64
import hashlib
import io
import re
import shutil
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx
import pytest
from fastapi.testclient import TestClient
from mapsupport import PAYLOADS, LiveServer, copy_data_dir, map_client, store_settings, write_events
from PIL import Image
from testsupport import make_settings

from app.main import create_app
from app.webmap.assets import STATIC_DIR
from app.webmap.render import FOOTER_PX, render_png
from app.webmap.view import parse_view


class Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=False)  # a script's text as the browser reads it
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.inline_scripts: list[str] = []  # the text of each <script> without src
        self._in_inline_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_inline_script = tag == "script" and "src" not in dict(attrs)
        if self._in_inline_script:
            self.inline_scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_inline_script = False

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self._in_inline_script:
            self.inline_scripts[-1] += data


def parse(html: str) -> Tags:
    parser = Tags()
    parser.feed(html)
    return parser


@pytest.fixture(scope="module")
def client(map_data_dir: Path, events_fixture: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory) -> Any:
    data_dir = copy_data_dir(map_data_dir, tmp_path_factory.mktemp("routes-data"))
    with map_client(data_dir, {"service": {"public_url": "https://maps.example.org"}}) as test_client:
        write_events(test_client.app.state.events, events_fixture)
        yield test_client


def test_map_page_allows_exactly_its_inline_script_by_hash(client: TestClient) -> None:
    response = client.get("/map", params={"title": "</script><script>window.__pwned=1</script>"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    script_src = policy.split("script-src")[1].split(";")[0].split()
    assert "'unsafe-inline'" not in script_src and not any(s.startswith("'nonce-") for s in script_src)
    inline = parse(response.text).inline_scripts
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'" for text in inline}
    assert len(inline) == 1 and {s for s in script_src if s.startswith("'sha256-")} == hashes
    assert "window.__pwned=1</script>" not in response.text


def test_map_pages_are_cached_and_revalidated(client: TestClient) -> None:
    cache = client.app.state.page_cache  # type: ignore[attr-defined]
    view = {"lat": "39.61", "lon": "46.82", "zoom": "9", "title": "Cached"}
    first = client.get("/embed", params=view)
    hits = cache.hits
    again = client.get("/embed", params=dict(reversed(view.items())))  # the same view, asked the other way round
    assert (again.status_code, again.text, again.headers["etag"]) == (200, first.text, first.headers["etag"])
    assert cache.hits == hits + 1
    assert again.headers["content-security-policy"] == first.headers["content-security-policy"]
    assert first.headers["cache-control"] == "public, max-age=300"
    revalidated = client.get("/embed", params=view, headers={"If-None-Match": first.headers["etag"]})
    assert (revalidated.status_code, revalidated.content) == (304, b"")
    other = client.get("/embed", params=view | {"title": "Another"})
    assert other.headers["etag"] != first.headers["etag"] and "Another" in other.text
    full = client.get("/map", params=view)
    assert full.headers["etag"] != first.headers["etag"] and full.text != first.text
    assert "frame-ancestors *" in first.headers["content-security-policy"]
    assert "frame-ancestors 'self'" in full.headers["content-security-policy"]


def test_assets_are_local_never_a_cdn(client: TestClient) -> None:
    tags = parse(client.get("/embed").text).tags
    assets = [
        (tag, attrs) for tag, attrs in tags if tag == "script" or (tag == "link" and attrs.get("rel") != "alternate")
    ]
    urls = [attrs.get("src") or attrs.get("href") for tag, attrs in assets]
    urls = [url for url in urls if url and not url.startswith("data:")]
    assert urls and all(url.startswith("/static/") for url in urls), urls
    for url in urls:
        assert client.get(url).status_code == 200, url


def test_missing_front_end_files_refuse_the_map_pages_naming_them(map_data_dir: Path, tmp_path: Path) -> None:
    static = tmp_path / "static"
    shutil.copytree(STATIC_DIR, static, ignore=shutil.ignore_patterns("vendor"))
    settings = store_settings(copy_data_dir(map_data_dir, tmp_path / "data"))
    with TestClient(create_app(settings, static_dir=static)) as unvendored:
        for path in ("/map", "/embed"):
            response = unvendored.get(path)
            assert response.status_code == 503, path
            assert "vendor/leaflet/leaflet.js" in response.json()["description"]
            assert "make vendor" in response.json()["description"]
        assert unvendored.get("/collections").status_code == 200  # the API does not need them


def test_page_size_does_not_grow_with_events(big_server: LiveServer, map_data_dir: Path, tmp_path: Path) -> None:
    settings = big_server.app.state.settings
    sections = {"basemap": settings.basemap.model_dump(), "map": settings.map.model_dump()}
    with map_client(copy_data_dir(map_data_dir, tmp_path), sections) as empty:
        assert empty.app.state.events.store.count() == 0
        small = empty.get("/map").text
    large = httpx.get(f"{big_server.url}/map").text
    assert big_server.events.store.count() == 100_000
    assert len(large.encode()) < 150_000
    assert abs(len(large) - len(small)) < 200
    assert "bulk-99999" not in large


@pytest.mark.parametrize("payload", PAYLOADS)
def test_title_payload_is_escaped(client: TestClient, payload: str) -> None:
    html = client.get("/map", params={"title": payload}).text
    if "<" in payload:
        assert payload not in html
    parsed = parse(html)
    assert not any(tag == "img" for tag, _ in parsed.tags)
    assert sum(1 for tag, _ in parsed.tags if tag == "script") == sum(1 for _ in re.finditer("<script", html))
    title = html.split("<title>")[1].split("</title>")[0]
    assert "<" not in title
    assert unescape(title) == payload


def test_embed_may_be_framed_and_map_only_by_itself(client: TestClient) -> None:
    assert "frame-ancestors *" in client.get("/embed").headers["content-security-policy"]
    assert "frame-ancestors 'self'" in client.get("/map").headers["content-security-policy"]


def test_basemap_none_allows_no_tile_origin(client: TestClient) -> None:
    osm = client.get("/map").headers["content-security-policy"]
    none = client.get("/map", params={"basemap": "none"})
    assert "tile.openstreetmap.org" in osm
    assert "tile.openstreetmap.org" not in none.headers["content-security-policy"]
    assert "tile.openstreetmap.org" not in none.text


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"zoom": "99"}, "zoom"),
        ({"lat": "abc"}, "lat"),
        ({"lat": "nan"}, "lat"),
        ({"datetime": "2020-13-01"}, "datetime"),
        ({"datetime": "2020-10-07/2020-10-01"}, "datetime"),
        ({"datetime": "../2020-10-01"}, "datetime"),
        ({"layers": "seven-districts,<b>nope"}, "layers"),
        ({"verification": "maybe"}, "verification"),
        ({"dark": "perhaps"}, "dark"),
        ({"title": "x" * 500}, "title"),
        ({"bogus": "1"}, "bogus"),
        ({"event_type": "\u00bf"}, "event_type"),
        ({"event_type": "Battles,Skirmish"}, "event_type"),
    ],
)
def test_bad_view_parameters_are_400_naming_the_parameter(client: TestClient, params: dict, parameter: str) -> None:
    response = client.get("/map", params=params)
    assert response.status_code == 400
    body = response.json()
    assert body["parameter"] == parameter
    assert parameter in body["description"]


def test_unknown_basemap_is_a_4xx_json(client: TestClient) -> None:
    response = client.get("/embed", params={"basemap": "google"})
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize("size", [{"width": "99999"}, {"height": "10"}, {"width": "-5"}, {"width": "1e9"}])
def test_absurd_image_sizes_are_400(client: TestClient, size: dict) -> None:
    response = client.get("/map.png", params=size)
    assert response.status_code == 400
    assert response.json()["parameter"] in size


@pytest.mark.parametrize("path", ["/embed/code", "/map.png"])
@pytest.mark.parametrize("digit", ["\u00b3", "\u0663", "\uff18"])  # superscript, Arabic-Indic, full-width digits
def test_unicode_digits_are_a_400_not_a_500(client: TestClient, path: str, digit: str) -> None:
    response = client.get(path, params={"width": f"8{digit}0"})
    assert response.status_code == 400
    assert response.json()["parameter"] == "width"


def test_unknown_event_type_names_the_allowed_values(client: TestClient) -> None:
    response = client.get("/embed", params={"event_type": "\u00bf"})
    assert response.status_code == 400
    assert "Battles" in response.json()["description"]
    assert client.get("/embed", params={"event_type": "Battles,Riots"}).status_code == 200


def test_png_has_requested_size_and_alt_text_from_the_data(client: TestClient) -> None:
    params = {
        "datetime": "2020-10-01/2020-10-07",
        "lat": "39.6",
        "lon": "46.9",
        "zoom": "8",
        "width": "640",
        "height": "400",
    }
    response = client.get("/map.png", params=params)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (640, 400)
    alt = unquote(response.headers["x-alt-text"])
    assert alt == (
        "14 reported events between 1 and 7 October 2020: 6 in Jabrayil district, 5 in Fuzuli district "
        "and 3 in Agdam district."
    )


def test_png_alt_text_for_a_day_without_events(client: TestClient) -> None:
    response = client.get("/map.png", params={"datetime": "2020-09-28", "width": "300", "height": "300"})
    assert "no reported events on 28 September 2020" in unquote(response.headers["x-alt-text"])


def test_png_filters_change_the_image(client: TestClient) -> None:
    base = {"datetime": "2020-10-01/2020-10-07", "width": "400", "height": "300"}
    everything = client.get("/map.png", params=base)
    verified = client.get("/map.png", params={**base, "verification": "verified"})
    assert everything.content != verified.content
    assert unquote(verified.headers["x-alt-text"]).startswith("3 reported events")


def test_embed_code_iframe_reproduces_the_view(client: TestClient) -> None:
    params = {
        "lat": "39.5",
        "lon": "46.8",
        "zoom": "9",
        "datetime": "2020-10-01/2020-10-07",
        "dark": "true",
        "title": PAYLOADS[1],
        "width": "400",
        "height": "300",
    }
    body = client.get("/embed/code", params={**params, "f": "json"}).json()
    tags = parse(body["html"]).tags
    assert [tag for tag, _ in tags] == ["iframe"]
    attrs = tags[0][1]
    assert attrs["title"] == PAYLOADS[1]
    src = urlsplit(attrs["src"])
    assert (src.scheme, src.netloc, src.path) == ("https", "maps.example.org", "/embed")
    query = {k: v[0] for k, v in parse_qs(src.query).items()}
    assert query["zoom"] == "9" and query["datetime"] == "2020-10-01/2020-10-07" and query["dark"] == "true"
    assert query["title"] == PAYLOADS[1]
    assert (attrs["width"], attrs["height"]) == ("400", "300")


def test_embed_code_image_uses_the_png_alt_text(client: TestClient) -> None:
    params = {
        "datetime": "2020-10-01/2020-10-07",
        "lat": "39.6",
        "lon": "46.9",
        "zoom": "8",
        "width": "640",
        "height": "400",
    }
    body = client.get("/embed/code", params={**params, "variant": "image", "f": "json"}).json()
    png = client.get("/map.png", params=params)
    img = next(attrs for tag, attrs in parse(body["html"]).tags if tag == "img")
    assert img["alt"] == unquote(png.headers["x-alt-text"]) == body["alt"]
    assert urlsplit(img["src"]).path == "/map.png"


def test_missing_manifest_is_503_json(tmp_path: Path) -> None:
    with TestClient(create_app(make_settings(tmp_path), providers=[])) as bare:
        response = bare.get("/map")
    assert response.status_code == 503
    assert "manifest" in response.json()["description"]


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
LIGHT_MAP_BACKGROUND = (0xF4, 0xF1, 0xEA)


def ink(image: Image.Image, box: tuple[int, int, int, int]) -> tuple[float, float]:
    """Share of pixels in ``box`` that differ from the map background, and share of dark (text) pixels."""
    crop = image.convert("RGB").crop(box)
    pixels = list(crop.getdata())
    differ = sum(1 for p in pixels if max(abs(a - b) for a, b in zip(p, LIGHT_MAP_BACKGROUND, strict=True)) > 8)
    dark = sum(1 for p in pixels if sum(p) / 3 < 90)
    return differ / len(pixels), dark / len(pixels)


def test_png_from_the_store_has_legend_and_credits(client: TestClient) -> None:
    params = {"datetime": "2020-10-01/2020-10-07", "lat": "39.6", "lon": "46.9", "zoom": "8"}
    response = client.get("/map.png", params={**params, "width": "800", "height": "600"})
    assert response.content[:8] == PNG_SIGNATURE
    # the same view rendered from the app's own MapData (its event store) tells where legend and credits went
    app = client.app
    manifest = manifest_of(app)
    view = parse_view(params, manifest.layers)
    static = render_png(view, manifest, app.state.map_data, width=800, height=600)
    assert static.png == response.content
    image = Image.open(io.BytesIO(static.png))
    assert static.legend_box and static.credits_box
    for box in (static.legend_box, static.credits_box):
        assert 0 <= box[0] < box[2] <= 800 and 0 <= box[1] < box[3] <= 600
    legend, credits = static.legend_box, static.credits_box
    assert legend[3] <= credits[1] or credits[3] <= legend[1]  # one above the other: no overlap
    assert credits[1] >= 600 - FOOTER_PX - 1  # the credits are in the footer, under the map
    legend_differs, legend_text = ink(image, legend)
    assert legend_differs > 0.5 and legend_text > 0.01
    _, credits_text = ink(image, credits)
    assert credits_text > 0.02
    assert static.event_count == 14


def test_png_without_layers_or_events_has_no_legend(client: TestClient) -> None:
    app = client.app
    manifest = manifest_of(app)
    view = parse_view({"layers": "none", "datetime": "2020-09-28"}, manifest.layers)
    static = render_png(view, manifest, app.state.map_data, width=400, height=300)
    assert static.legend_box is None and static.event_count == 0


def test_png_alt_text_counts_only_the_events_drawn(client: TestClient, events_fixture: list[dict[str, Any]]) -> None:
    params = {"datetime": "2020-10-01/2020-10-14", "lat": "39.8", "lon": "46.9", "zoom": "7"}
    response = client.get("/map.png", params={**params, "width": "640", "height": "400"})
    alt = unquote(response.headers["x-alt-text"])
    in_dates = [r for r in events_fixture if r["date_start"] <= "2020-10-14" and r["date_end"] >= "2020-10-01"]
    unmapped = [r for r in in_dates if r["location_precision"] >= 6]
    assert len(unmapped) == 2
    assert alt.startswith(f"{len(in_dates) - len(unmapped)} reported events between 1 and 14 October 2020")
    assert alt.endswith("2 more reported events, located only to the country or in waters/airspace, are not drawn.")


def test_png_of_a_fresh_app_draws_the_seeded_events(
    map_data_dir: Path, seed_records: list[dict[str, Any]], tmp_path: Path
) -> None:
    with map_client(copy_data_dir(map_data_dir, tmp_path), seed=True) as seeded:
        response = seeded.get("/map.png", params={"zoom": "6", "width": "1200", "height": "800"})
    in_war = [r for r in seed_records if r["date_start"] <= "2020-11-10" and r["date_end"] >= "2020-09-27"]
    drawn = [r for r in in_war if r["location_precision"] < 6]
    alt = unquote(response.headers["x-alt-text"])
    assert alt.startswith(f"{len(drawn)} reported events between 27 September and 10 November 2020")
    check_claims(alt, drawn, map_data_dir)


def zone_counts(records: list[dict[str, Any]], data_dir: Path) -> dict[str, int]:
    """Events per named zone, counted here with shapely (not with the alt text's own join)."""
    import geopandas as gpd
    from shapely.geometry import Point

    counts: dict[str, int] = {}
    for layer, pattern in (
        ("seven-districts", "{} district"),
        ("nagorno-karabakh", "the former Nagorno-Karabakh oblast"),
    ):
        frame = gpd.read_file(data_dir / "layers" / f"{layer}.gpkg", layer=layer)
        for name, geometry in zip(frame["name"], frame.geometry, strict=True):
            label = pattern.format(name)
            counts[label] = sum(1 for r in records if geometry.contains(Point(r["lon"], r["lat"])))
    return counts


CLAIM = re.compile(r"(most \((\d[\d,]*)\)|\d[\d,]*) in ((?:the former )?[A-Z][\w -]+?(?: district| oblast))")


def check_claims(alt: str, records: list[dict[str, Any]], data_dir: Path) -> None:
    """Every "N in <zone>" of ``alt`` is the zone's count; "most" is more than half; "N elsewhere" is the rest."""
    total = len(records)
    counts = zone_counts(records, data_dir)
    claims = CLAIM.findall(alt)
    assert claims, alt
    named = 0
    for number, most, label in claims:
        value = int((most or number).replace(",", ""))
        assert counts[label] == value, (label, value, counts[label], alt)
        if most:
            assert value * 2 > total, alt
        named += value
    assert "most in" not in alt  # the old wording claimed a majority for the largest share
    rest = re.search(r"(\d[\d,]*) elsewhere", alt)
    assert (int(rest.group(1).replace(",", "")) if rest else 0) == total - named, alt
    ranked = sorted(counts.values(), reverse=True)
    assert [int((m or n).replace(",", "")) for n, m, _ in claims] == ranked[: len(claims)]  # the largest, in order


def test_alt_text_claims_match_the_counts(client: TestClient, events_fixture: list[dict[str, Any]]) -> None:
    params = {"datetime": "2020-10-01/2020-10-31", "lat": "39.6", "lon": "46.9", "zoom": "7"}
    alt = unquote(client.get("/map.png", params={**params, "width": "1200", "height": "800"}).headers["x-alt-text"])
    in_dates = [
        r
        for r in events_fixture
        if r["date_start"] <= "2020-10-31" and r["date_end"] >= "2020-10-01" and r["location_precision"] < 6
    ]
    check_claims(alt, in_dates, client.app.state.settings.data_dir)


def test_embed_code_is_a_page_and_json_on_request(client: TestClient) -> None:
    page = client.get("/embed/code", params={"title": PAYLOADS[1], "responsive": "true"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "script-src 'self';" in page.headers["content-security-policy"]  # no inline script at all
    assert "<img src=x" not in page.text
    tags = parse(page.text).tags
    textarea = page.text.split('<textarea id="snippet" readonly rows="6">')[1].split("</textarea>")[0]
    snippet = unescape(textarea)  # what the reader copies
    assert snippet.startswith('<div style="position:relative;width:100%;height:0;padding-top:75.00%">')
    assert "https://maps.example.org/embed?" in snippet
    assert any(tag == "iframe" and attrs["id"] == "preview" for tag, attrs in tags)
    assert "CZMAP_PUBLIC_URL" not in page.text  # set in this app: no warning
    body = client.get("/embed/code", params={"title": PAYLOADS[1], "responsive": "true", "f": "json"}).json()
    assert body["html"] == snippet


def test_oembed_answers_for_our_maps_only(client: TestClient) -> None:
    url = "https://maps.example.org/map?zoom=9&title=War%20%26%20peace&datetime=2020-10-01"
    body = client.get("/oembed", params={"url": url, "maxwidth": "400"}).json()
    assert body["version"] == "1.0" and body["type"] == "rich"
    assert (body["width"], body["height"]) == (400, 300)
    assert body["title"] == "War & peace"
    iframe = parse(body["html"]).tags[0]
    assert iframe[0] == "iframe"
    src = urlsplit(iframe[1]["src"])
    assert (src.netloc, src.path) == ("maps.example.org", "/embed")
    assert parse_qs(src.query)["datetime"] == ["2020-10-01"]
    for foreign in ("https://evil.example/map", "https://maps.example.org/collections", "javascript:alert(1)"):
        assert client.get("/oembed", params={"url": foreign}).status_code == 404
    unsupported = client.get("/oembed", params={"url": url, "format": "xml"})
    assert unsupported.status_code == 501  # oEmbed 1.0, 2.3.4: the provider cannot return the requested format
    assert unsupported.json()["code"] == "NotImplemented" and "format=json" in unsupported.json()["description"]
    assert client.get("/oembed", params={"url": url + "&zoom=99"}).status_code == 400


def test_map_pages_link_their_oembed(client: TestClient) -> None:
    for path in ("/map", "/embed"):
        links = [a for tag, a in parse(client.get(path, params={"zoom": "9"}).text).tags if tag == "link"]
        oembed = next(a for a in links if a.get("type") == "application/json+oembed")
        target = parse_qs(urlsplit(oembed["href"]).query)["url"][0]
        assert target.startswith(f"https://maps.example.org{path}?") and "zoom=9" in target
        assert client.get("/oembed", params={"url": target}).status_code == 200


def test_static_map_as_svg_and_pdf(client: TestClient) -> None:
    params = {"datetime": "2020-10-01/2020-10-07", "width": "600", "height": "400"}
    svg = client.get("/map.svg", params=params)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.content.lstrip().startswith(b"<?xml") and b"<svg" in svg.content[:2000]
    pdf = client.get("/map.pdf", params=params)
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    png_alt = client.get("/map.png", params=params).headers["x-alt-text"]
    assert svg.headers["x-alt-text"] == pdf.headers["x-alt-text"] == png_alt


def test_static_legend_beside_the_map_with_a_scale_bar(client: TestClient) -> None:
    app = client.app
    for width in (1200, 400):
        view = parse_view({"datetime": "2020-10-01/2020-10-07"}, manifest_of(app).layers)
        static = render_png(view, manifest_of(app), app.state.map_data, width=width, height=500)
        assert static.legend_box and static.map_box
        legend, area = static.legend_box, static.map_box
        assert legend[0] >= area[2] - 1, (legend, area)  # to the right of the map: never over the data
        assert legend[2] <= width + 1
        assert static.scale_km in (10.0, 20.0, 50.0, 100.0, 200.0)


def test_static_map_draws_the_line_of_contact_in_the_default_view(client: TestClient) -> None:
    app = client.app
    view = parse_view({"layers": "line-of-contact-1994"}, manifest_of(app).layers)
    static = render_png(view, manifest_of(app), app.state.map_data, width=600, height=400)
    assert static.legend_box is not None  # the line (as on 9 November 2020) is drawn and in the legend


def test_landing_page_links_to_the_map_and_the_embed_page(client: TestClient) -> None:
    html = client.get("/", params={"f": "html"}).text
    hrefs = [a.get("href") for tag, a in parse(html).tags if tag == "a"]
    assert any(h and h.endswith("/map") for h in hrefs) and any(h and h.endswith("/embed/code") for h in hrefs)
    # each combination of credits is written once
    cells = re.findall(r"<td>(Made with Natural Earth \(4\.0\.0\))</td>", html)
    assert len(cells) == 1


def manifest_of(app: Any) -> Any:
    """The app's typed layer manifest (the layer store's)."""
    return app.state.layers.manifest


def test_rendering_keeps_no_legend_handler_per_image(client) -> None:
    """geopandas registers a new legend handler class per polygon plot; each render drops them (no growth)."""
    from matplotlib.legend import Legend

    assert client.get("/map.png?width=400&height=300").status_code == 200
    size = len(Legend.get_default_handler_map())
    for _ in range(3):
        assert client.get("/map.png?width=400&height=300").status_code == 200
    assert len(Legend.get_default_handler_map()) == size
    assert not [c for c in Legend.get_default_handler_map() if c.__name__ == "_GeoPandasPolyCollection"]
