"""Fetch source files into a local cache: copy from a mirror folder or download, verify sha256, write atomically.

Nothing half-written is ever left in the cache: every file is written to a temporary name in the same folder,
verified, and only then renamed into place.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

from geodata.errors import ChecksumMismatch, SourceUnavailable
from geodata.sources import Source

DOWNLOAD_TIMEOUT_S = 60
StepCallback = Callable[[Source], None]


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def fetch_sources(
    sources: Iterable[Source],
    cache_dir: Path,
    mirror: Path | None = None,
    on_done: StepCallback | None = None,
) -> dict[str, Path]:
    """Make every source available locally and verified; return source id -> local path.

    A file already in the cache with the right checksum is reused. Otherwise it is copied from ``mirror``
    (laid out as ``<folder>/<file>``) or, with no mirror, downloaded from the source's ``url``.
    """
    paths = {}
    for source in sources:
        paths[source.id] = fetch_source(source, cache_dir, mirror)
        if on_done is not None:
            on_done(source)
    return paths


def fetch_source(source: Source, cache_dir: Path, mirror: Path | None = None) -> Path:
    """Fetch and verify one source; see :func:`fetch_sources`."""
    if source.package:
        return _packaged_file(source)
    target = cache_dir / source.mirror_path
    if target.exists() and sha256_of(target) == source.sha256:
        return target
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".fetch-") as tmp:
        staged = Path(tmp) / source.file
        if mirror is not None:
            _copy_from_mirror(source, mirror, staged)
        else:
            _download(source, staged)
        _verify(source, staged, source.sha256, where=str(mirror / source.mirror_path) if mirror else source.url)
        os.replace(staged, target)
    return target


def _packaged_file(source: Source) -> Path:
    spec = importlib.util.find_spec(source.package)
    if spec is None or spec.origin is None:
        raise SourceUnavailable(
            f"source {source.id!r}: the Python package {source.package!r} is not installed; "
            f"install {source.package}=={source.package_version}"
        )
    path = Path(spec.origin).parent / source.file
    if not path.exists():
        raise SourceUnavailable(f"source {source.id!r}: {path} is missing from package {source.package!r}")
    installed = importlib.metadata.version(source.package)
    _verify(source, path, source.sha256, where=f"{source.package} {installed} ({path})")
    return path


def _copy_from_mirror(source: Source, mirror: Path, staged: Path) -> None:
    origin = mirror / source.mirror_path
    if not origin.is_file():
        raise SourceUnavailable(
            f"source {source.id!r}: {origin} is not in the mirror folder {mirror}. "
            f"Put an unedited copy of {source.file} there (sha256 {source.sha256}), point "
            "CZMAP_GEODATA_MIRROR at a complete mirror, or unset it to download from upstream."
        )
    shutil.copyfile(origin, staged)


def _download(source: Source, staged: Path) -> None:
    if not source.url:
        raise SourceUnavailable(f"source {source.id!r} has no download address; use a mirror folder")
    is_archive = bool(source.archive_sha256)
    fetched = staged.with_name(staged.name + (".7z" if is_archive else ".part"))
    try:
        with (
            urllib.request.urlopen(source.url, timeout=DOWNLOAD_TIMEOUT_S) as response,
            fetched.open("wb") as out,
        ):
            shutil.copyfileobj(response, out)
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise SourceUnavailable(
            f"source {source.id!r}: could not download {source.url} ({exc}). Without internet, set "
            "CZMAP_GEODATA_MIRROR (or --mirror) to a folder holding the source files."
        ) from exc
    if is_archive:
        _verify(source, fetched, source.archive_sha256, where=source.url)
        _unpack_member(fetched, source.file, staged)
    else:
        fetched.rename(staged)


def _unpack_member(archive: Path, member: str, staged: Path) -> None:
    import py7zr  # imported here: only downloads of archived sources need it

    with py7zr.SevenZipFile(archive) as z:
        z.extract(path=staged.parent, targets=[member])
    if not staged.exists():
        raise SourceUnavailable(f"archive {archive.name} does not contain {member}")


def _verify(source: Source, path: Path, expected: str, where: str) -> None:
    actual = sha256_of(path)
    if actual != expected:
        raise ChecksumMismatch(
            f"source {source.id!r}: {path.name} from {where} has sha256 {actual}, expected {expected}. "
            "The file is not the pinned upstream version (edited, truncated or re-encoded): replace it with "
            "an unedited copy."
        )
