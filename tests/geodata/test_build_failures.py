"""A failing build names the problem and leaves no partial output; the command line reports it clearly."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import geopandas as gpd
import pytest
from shapely.geometry import Polygon

from geodata.build import build_all, read_manifest
from geodata.builders import BUILDERS, BuildContext
from geodata.errors import BuildCheckFailed
from geodata.layerdefs import LayerDefinition, load_registry, parse_definition
from geodata.sources import load_catalogue

BOWTIE = Polygon([(46.0, 39.0), (46.2, 39.2), (46.2, 39.0), (46.0, 39.2), (46.0, 39.0)])


def _bowtie_builder(ctx: BuildContext, d: LayerDefinition) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame({"id": ["ok", "twisted"]}, geometry=[BOWTIE.envelope, BOWTIE], crs="EPSG:4326")


def _registry_with_bowtie(tmp_path: Path):  # noqa: ANN202
    catalogue = load_catalogue()
    path = tmp_path / "bad-layer.toml"
    path.write_text(
        'id = "bad-layer"\ntitle = "Bad"\ndescription = "x"\nbuilder = "bowtie"\n'
        'sources = ["ne-disputed-areas"]\nlicence = "public-domain"\ngeometry_type = "Polygon"\naccuracy_m = 0\n'
    )
    return catalogue, load_registry(catalogue).register(parse_definition(path, catalogue))


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_invalid_geometry_names_feature_and_keeps_previous_build(
    built_data_dir: Path, source_paths: dict[str, Path], tmp_path: Path
) -> None:
    data_dir = tmp_path / "data"
    shutil.copytree(built_data_dir / "layers", data_dir / "layers")
    before = _snapshot(data_dir)
    catalogue, registry = _registry_with_bowtie(tmp_path)
    with pytest.raises(
        BuildCheckFailed, match=r"layer 'bad-layer', feature 'twisted': invalid geometry \(Self-intersection"
    ):
        build_all(registry, catalogue, source_paths, data_dir, builders={**BUILDERS, "bowtie": _bowtie_builder})
    assert _snapshot(data_dir) == before
    assert sorted(p.name for p in data_dir.iterdir()) == ["layers"]  # no staging folder left behind


def test_failed_first_build_leaves_nothing(source_paths: dict[str, Path], tmp_path: Path) -> None:
    catalogue, registry = _registry_with_bowtie(tmp_path)
    data_dir = tmp_path / "fresh"
    with pytest.raises(BuildCheckFailed):
        build_all(registry, catalogue, source_paths, data_dir, builders={**BUILDERS, "bowtie": _bowtie_builder})
    assert not (data_dir / "layers").exists()
    with pytest.raises(FileNotFoundError, match="czmap geodata build"):
        read_manifest(data_dir)


def _czmap(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    czmap = Path(sys.executable).with_name("czmap")
    return subprocess.run([str(czmap), *args], capture_output=True, text=True, env=env, timeout=300)


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CZMAP_")}
    return {**env, "COLUMNS": "200", **extra}


def test_cli_reports_missing_mirror_file(geodata_mirror: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(geodata_mirror, mirror)
    os.chmod(mirror / "natural-earth-4.0.0", 0o755)
    (mirror / "natural-earth-4.0.0" / "ne_10m_admin_0_disputed_areas.json").unlink()
    result = _czmap("geodata", "fetch", "--mirror", str(mirror), "--data-dir", str(tmp_path / "d"), env=_env())
    assert result.returncode == 1
    assert "ne_10m_admin_0_disputed_areas.json" in result.stderr and "not in the mirror folder" in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_reports_corrupted_file(geodata_mirror: Path, tmp_path: Path) -> None:
    mirror = tmp_path / "mirror"
    shutil.copytree(geodata_mirror, mirror)
    target = mirror / "geoboundaries-aze-adm2" / "geoBoundaries-AZE-ADM2.geojson"
    os.chmod(target.parent, 0o755)
    os.chmod(target, 0o644)
    target.write_bytes(target.read_bytes()[:-100])
    result = _czmap("geodata", "build", "--mirror", str(mirror), "--data-dir", str(tmp_path / "d"), env=_env())
    assert result.returncode == 1
    assert "75fae71216af7e80445118ea8ef40feb55b75b4523918c5488380f437932ffd7" in result.stderr
    assert not (tmp_path / "d" / "layers").exists()
    assert not list((tmp_path / "d" / "sources").rglob("*.geojson"))


def test_cli_build_prints_layers(geodata_mirror: Path, tmp_path: Path) -> None:
    result = _czmap(
        "geodata", "build", "--data-dir", str(tmp_path / "d"), env=_env(CZMAP_GEODATA_MIRROR=str(geodata_mirror))
    )
    assert result.returncode == 0, result.stderr
    manifest = read_manifest(tmp_path / "d")
    for layer_id, meta in manifest["layers"].items():
        assert layer_id in result.stdout and meta["version"] in result.stdout
