"""Layer definition files: parsing, validation messages, dependency order, licence rules."""

from __future__ import annotations

from pathlib import Path

import pytest

from geodata.errors import LayerDefinitionError
from geodata.layerdefs import load_registry, parse_definition, with_params
from geodata.sources import load_catalogue

MINIMAL = """
id = "{id}"
title = "T"
description = "D"
builder = "oblast"
sources = {sources}
licence = "{licence}"
geometry_type = "Polygon"
accuracy_m = 500
depends_on = {deps}
"""


def _write(
    folder: Path,
    layer_id: str,
    sources: str = '["ne-boundary-lines-disputed"]',
    licence: str = "public-domain",
    deps: str = "[]",
) -> Path:
    path = folder / f"{layer_id}.toml"
    path.write_text(MINIMAL.format(id=layer_id, sources=sources, licence=licence, deps=deps))
    return path


def test_project_layers_load_in_dependency_order() -> None:
    registry = load_registry(load_catalogue())
    order = registry.list()
    assert set(order) >= {
        "nagorno-karabakh",
        "seven-districts",
        "iran-border",
        "iran-border-zone",
        "line-of-contact-1994",
        "ceasefire-1994-area",
        "places",
    }
    for layer in registry:
        for dep in layer.depends_on:
            assert order.index(dep) < order.index(layer.id)


def test_share_alike_source_forces_share_alike_licence(tmp_path: Path) -> None:
    path = _write(tmp_path, "x", sources='["geoboundaries-aze-adm2"]', licence="public-domain")
    with pytest.raises(LayerDefinitionError, match="share-alike"):
        parse_definition(path, load_catalogue())


def test_unknown_source_is_named(tmp_path: Path) -> None:
    with pytest.raises(LayerDefinitionError, match="unknown source 'nope'"):
        parse_definition(_write(tmp_path, "x", sources='["nope"]'), load_catalogue())


def test_missing_keys_are_listed(tmp_path: Path) -> None:
    path = tmp_path / "x.toml"
    path.write_text('id = "x"\ntitle = "T"\n')
    with pytest.raises(LayerDefinitionError, match=r"missing required keys \['description', 'builder'"):
        parse_definition(path, load_catalogue())


def test_id_must_match_file_name(tmp_path: Path) -> None:
    path = _write(tmp_path, "x")
    path.rename(tmp_path / "y.toml")
    with pytest.raises(LayerDefinitionError, match="must match the file name"):
        parse_definition(tmp_path / "y.toml", load_catalogue())


def test_malformed_toml_is_reported(tmp_path: Path) -> None:
    (tmp_path / "x.toml").write_text("id = \n")
    with pytest.raises(LayerDefinitionError, match="not valid TOML"):
        parse_definition(tmp_path / "x.toml", load_catalogue())


def test_empty_folder_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(LayerDefinitionError, match="no layer files"):
        load_registry(load_catalogue(), tmp_path)


def test_cycles_and_unknown_dependencies_are_rejected(tmp_path: Path) -> None:
    _write(tmp_path, "a", deps='["b"]')
    _write(tmp_path, "b", deps='["a"]')
    with pytest.raises(LayerDefinitionError, match="cycle"):
        load_registry(load_catalogue(), tmp_path)
    _write(tmp_path, "b", deps='["ghost"]')
    with pytest.raises(LayerDefinitionError, match="unknown layer 'ghost'"):
        load_registry(load_catalogue(), tmp_path)


def test_registry_is_immutable_and_register_returns_new(tmp_path: Path) -> None:
    (tmp_path / "layers").mkdir()
    _write(tmp_path / "layers", "a")
    registry = load_registry(load_catalogue(), tmp_path / "layers")
    extra = parse_definition(_write(tmp_path, "zz"), load_catalogue())
    bigger = registry.register(extra)
    assert registry.list() == ["a"]
    assert bigger.list() == ["a", "zz"]
    with pytest.raises(LayerDefinitionError, match="unknown layer 'nope'"):
        bigger.get("nope")


def test_fingerprint_changes_with_parameters() -> None:
    oblast = load_registry(load_catalogue()).get("nagorno-karabakh")
    assert with_params(oblast, snap_tolerance_m=1).fingerprint() != oblast.fingerprint()
    assert with_params(oblast).fingerprint() == oblast.fingerprint()


def test_a_layer_without_its_accuracy_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path, "no-accuracy")
    path.write_text(path.read_text().replace("accuracy_m = 500\n", ""))
    with pytest.raises(LayerDefinitionError, match="accuracy_m is missing"):
        parse_definition(path, load_catalogue())
