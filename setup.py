"""The build step pyproject.toml cannot declare: the layer files and the map's front-end files go into the package.

Every build of a wheel (``pip install .``, ``pip wheel .``, an install from the sdist) runs ``build_py``, which

- copies ``layers/*.toml`` into ``geodata/layers/`` of the built package, where :mod:`geodata.layerdefs` reads
  them when the package is not a checkout; the ``layers/`` folder of the repository stays where it is;
- runs ``scripts/vendor-assets.sh`` (the npm registry, at build time only) into ``app/static/vendor/`` of the
  built package when the source tree has no vendored copy of every package in ``app/static/vendor.txt``.

An editable install (``pip install -e .``) reads ``layers/`` and ``app/static/vendor/`` from the checkout, so it
copies nothing (``make vendor`` fills the checkout's vendor folder).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
VENDOR_LIST = ROOT / "app" / "static" / "vendor.txt"
VENDOR_DIR = ROOT / "app" / "static" / "vendor"


def vendored_packages() -> list[str]:
    """Names of the npm packages listed in app/static/vendor.txt."""
    lines = (line.strip() for line in VENDOR_LIST.read_text(encoding="utf-8").splitlines())
    return [line.split()[0].rsplit("@", 1)[0] for line in lines if line and not line.startswith("#")]


def source_tree_vendored() -> bool:
    """Whether app/static/vendor/ holds every listed package, and was filled after the list last changed.

    An sdist carries the folders but not the ``.stamp`` file ``make`` compares with the list.
    """
    stamp = VENDOR_DIR / ".stamp"
    if stamp.exists() and stamp.stat().st_mtime < VENDOR_LIST.stat().st_mtime:
        return False
    folders = [VENDOR_DIR / name for name in vendored_packages()]
    return all(folder.is_dir() and any(folder.iterdir()) for folder in folders)


class BuildWithData(build_py):
    """``build_py`` that also puts the layer files and the vendored front-end files into the built package."""

    def run(self) -> None:
        """Build the Python packages, then add what lives outside them."""
        super().run()
        if self.editable_mode:
            return
        target = Path(self.build_lib)
        layers = target / "geodata" / "layers"
        shutil.rmtree(layers, ignore_errors=True)
        layers.mkdir(parents=True)
        for path in sorted((ROOT / "layers").glob("*.toml")):
            shutil.copy2(path, layers / path.name)
        if not source_tree_vendored():
            script = ROOT / "scripts" / "vendor-assets.sh"
            subprocess.run([str(script), str(target / "app" / "static" / "vendor")], check=True)


setup(cmdclass={"build_py": BuildWithData})
