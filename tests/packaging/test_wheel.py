"""pip alone gives a working service: a wheel of the project, installed with its dependencies in a fresh venv
(no system site-packages, nothing of this checkout on the path), builds the layers and serves the map.

An sdist is made from the project's files as git lists them (no vendored front-end files, no built data) and
the wheel is built from it, as pip does for an sdist: MANIFEST.in must bring the layer files and the vendoring
script along, and the build step of setup.py must copy the layer files into the package and fetch the map's
front-end files from the npm registry. Slow (a venv and its packages, a full layer build): marked ``layers`` and
``slow``, it runs in the full suite, not in the fast subset.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from livesupport import start_server, stop_server

PROJECT_ROOT = Path(__file__).resolve().parents[2]
#: Every test here waits for the venv (most of the time) and all but one for the layer build too.
pytestmark = [pytest.mark.slow, pytest.mark.layers]


def project_files() -> list[str]:
    """The files of the project as git sees them: tracked, plus new ones not ignored (no vendor/, no data/)."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        check=True,
    )
    return [name for name in listing.stdout.decode().split("\0") if name and (PROJECT_ROOT / name).is_file()]


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without this checkout on the path, another venv or any CZMAP_* setting."""
    dropped = ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME")
    env = {k: v for k, v in os.environ.items() if k not in dropped and not k.startswith("CZMAP_")}
    return {**env, **extra}


def run(command: list[str], **options: object) -> str:
    """Run a command, failing the test with its output if it fails."""
    done = subprocess.run(command, capture_output=True, text=True, **options)  # type: ignore[call-overload]
    output = f"{done.stdout[-3000:]}{done.stderr[-3000:]}"
    assert done.returncode == 0, f"{' '.join(command)} exited {done.returncode}:\n{output}"
    return str(done.stdout)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the project's wheel (built from an sdist of its files) and its dependencies."""
    root = tmp_path_factory.mktemp("wheel")
    source = root / "source"
    for name in project_files():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(PROJECT_ROOT / name, source / name)
    assert not (source / "app" / "static" / "vendor").exists()
    run([sys.executable, "-m", "build", "--sdist", "--outdir", str(root / "sdist"), str(source)])
    (sdist,) = (root / "sdist").glob("conflict_zone_map-*.tar.gz")
    run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(root / "dist"), str(sdist)])
    (wheel,) = (root / "dist").glob("conflict_zone_map-*.whl")
    venv = root / "venv"
    run([sys.executable, "-m", "venv", str(venv)])
    # no byte-compiling of every dependency at install time (the test imports few of them; they compile lazily)
    run([str(venv / "bin" / "pip"), "install", "--quiet", "--no-compile", str(wheel)], env=clean_env())
    return venv


@pytest.fixture(scope="module")
def served(installed: Path, geodata_mirror: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``czmap geodata build`` then ``czmap serve`` of the installed package, in an empty folder."""
    workdir = tmp_path_factory.mktemp("empty")
    env = clean_env(CZMAP_GEODATA_MIRROR=str(geodata_mirror))
    czmap = str(installed / "bin" / "czmap")
    run([czmap, "geodata", "build"], cwd=workdir, env=env)
    url, process = start_server(env, czmap=czmap, cwd=workdir)
    try:
        yield url
    finally:
        stop_server(process)


def test_the_package_reads_its_own_layer_files(installed: Path) -> None:
    code = "import app, geodata.layerdefs as d; print(app.__file__); print(d.DEFAULT_LAYERS_DIR)"
    # run outside the checkout: `python -c` puts the working folder first on the path
    app_file, layers_dir = run([str(installed / "bin" / "python"), "-c", code], cwd=installed, env=clean_env()).split()
    site = str(installed / "lib")
    assert app_file.startswith(site) and layers_dir.startswith(site), (app_file, layers_dir)
    shipped = sorted(p.name for p in Path(layers_dir).glob("*.toml"))
    assert shipped == sorted(p.name for p in (PROJECT_ROOT / "layers").glob("*.toml"))


def test_collections_list_every_layer_and_the_events(served: str) -> None:
    listed = {c["id"] for c in httpx.get(f"{served}/collections", timeout=30).json()["collections"]}
    expected = {p.stem for p in (PROJECT_ROOT / "layers").glob("*.toml")} | {"events"}
    assert listed == expected


def test_the_map_loads_leaflet_from_the_package(served: str) -> None:
    page = httpx.get(f"{served}/map", timeout=30)
    assert page.status_code == 200
    assert 'src="/static/vendor/leaflet/leaflet.js"' in page.text
    script = httpx.get(f"{served}/static/vendor/leaflet/leaflet.js", timeout=30)
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert "Leaflet" in script.text[:500] and len(script.content) > 100_000
