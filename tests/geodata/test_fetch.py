"""Fetching sources: mirror copies, downloads over real HTTP, checksum and availability errors."""

from __future__ import annotations

import hashlib
import http.server
import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import py7zr
import pytest

from geodata.errors import ChecksumMismatch, SourceUnavailable
from geodata.fetch import fetch_source, fetch_sources
from geodata.sources import Licence, Source, load_catalogue

PAYLOAD = b'{"type": "FeatureCollection", "features": []}\n'
LICENCE = Licence(id="pd", name="Public domain", url="https://example.org", share_alike=False)


def _source(**overrides: object) -> Source:
    fields: dict = {
        "id": "tiny",
        "folder": "tiny-src",
        "file": "tiny.json",
        "licence": LICENCE,
        "sha256": hashlib.sha256(PAYLOAD).hexdigest(),
        "attribution": "Tiny",
    }
    return Source(**{**fields, **overrides})


def _leftovers(cache: Path) -> list[Path]:
    return [p for p in cache.rglob("*") if p.is_file()]


@pytest.fixture
def mirror(tmp_path: Path) -> Path:
    folder = tmp_path / "mirror" / "tiny-src"
    folder.mkdir(parents=True)
    (folder / "tiny.json").write_bytes(PAYLOAD)
    return tmp_path / "mirror"


@pytest.fixture
def http_root(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    root = tmp_path / "www"
    root.mkdir()
    handler = lambda *a, **k: http.server.SimpleHTTPRequestHandler(*a, directory=str(root), **k)  # noqa: E731
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", root
    server.shutdown()


def test_mirror_copy_is_verified_and_cached(mirror: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    path = fetch_source(_source(), cache, mirror)
    assert path == cache / "tiny-src" / "tiny.json"
    assert path.read_bytes() == PAYLOAD


def test_missing_mirror_file_names_file_and_leaves_nothing(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (tmp_path / "empty").mkdir()
    with pytest.raises(SourceUnavailable, match=r"tiny\.json.*not in the mirror folder") as err:
        fetch_source(_source(), cache, tmp_path / "empty")
    assert "CZMAP_GEODATA_MIRROR" in str(err.value)
    assert _leftovers(cache) == []


def test_corrupted_file_names_both_checksums_and_leaves_nothing(mirror: Path, tmp_path: Path) -> None:
    (mirror / "tiny-src" / "tiny.json").write_bytes(PAYLOAD.replace(b"[]", b"[ ]"))
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumMismatch) as err:
        fetch_source(_source(), cache, mirror)
    message = str(err.value)
    assert hashlib.sha256(PAYLOAD).hexdigest() in message
    assert hashlib.sha256(PAYLOAD.replace(b"[]", b"[ ]")).hexdigest() in message
    assert "tiny.json" in message
    assert _leftovers(cache) == []


def test_corrupted_cache_entry_is_replaced(mirror: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    (cache / "tiny-src").mkdir(parents=True)
    (cache / "tiny-src" / "tiny.json").write_bytes(b"truncated")
    assert fetch_source(_source(), cache, mirror).read_bytes() == PAYLOAD


def test_download_over_http(http_root: tuple[str, Path], tmp_path: Path) -> None:
    base, root = http_root
    (root / "tiny.json").write_bytes(PAYLOAD)
    path = fetch_source(_source(url=f"{base}/tiny.json"), tmp_path / "cache", mirror=None)
    assert path.read_bytes() == PAYLOAD


def test_download_of_7z_archive_verifies_archive_and_member(http_root: tuple[str, Path], tmp_path: Path) -> None:
    base, root = http_root
    (tmp_path / "tiny.json").write_bytes(PAYLOAD)
    with py7zr.SevenZipFile(root / "tiny.7z", "w") as z:
        z.write(tmp_path / "tiny.json", "tiny.json")
    archive_sha = hashlib.sha256((root / "tiny.7z").read_bytes()).hexdigest()
    source = _source(url=f"{base}/tiny.7z", archive_sha256=archive_sha)
    assert fetch_source(source, tmp_path / "cache", mirror=None).read_bytes() == PAYLOAD
    with pytest.raises(ChecksumMismatch, match="tiny.json.7z"):
        fetch_source(_source(url=f"{base}/tiny.7z", archive_sha256="0" * 64), tmp_path / "cache2", mirror=None)
    assert _leftovers(tmp_path / "cache2") == []


def test_unreachable_address_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(SourceUnavailable, match="could not download") as err:
        fetch_source(_source(url=f"http://127.0.0.1:{port}/tiny.json"), tmp_path / "cache", mirror=None)
    assert "CZMAP_GEODATA_MIRROR" in str(err.value)
    assert _leftovers(tmp_path / "cache") == []


def test_packaged_geonames_is_verified() -> None:
    geonames = load_catalogue().get("geonames-cities500")
    assert fetch_source(geonames, Path("/nonexistent")).name == "cities500.json"


def test_every_mirror_source_verifies(geodata_mirror: Path, tmp_path: Path) -> None:
    done: list[str] = []
    paths = fetch_sources(
        load_catalogue().sources.values(), tmp_path, geodata_mirror, on_done=lambda s: done.append(s.id)
    )
    assert set(paths) == set(done) == set(load_catalogue().sources)
