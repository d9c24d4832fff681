"""docs/data.md names every layer and says what the build does (its generated part is regenerated and compared)."""

from __future__ import annotations

import tomllib
from pathlib import Path

from geodata.datapage import BEGIN, END, PAGE, render, replace_generated
from geodata.layerdefs import load_registry
from geodata.manifest import read_manifest
from geodata.sources import load_catalogue

LAYERS_DIR = Path(__file__).resolve().parents[2] / "layers"


def test_every_layer_file_is_on_the_data_page() -> None:
    page = PAGE.read_text(encoding="utf-8")
    ids = [tomllib.loads(p.read_text(encoding="utf-8"))["id"] for p in sorted(LAYERS_DIR.glob("*.toml"))]
    assert ids
    missing = [layer_id for layer_id in ids if f"### `{layer_id}`" not in page]
    assert missing == [], f"not in docs/data.md: {missing}; run python -m geodata.datapage --data-dir data"


def test_every_source_is_on_the_data_page() -> None:
    page = PAGE.read_text(encoding="utf-8")
    assert [s for s in load_catalogue().sources if f'id="source-{s}"' not in page] == []


def test_the_generated_part_matches_a_fresh_build(built_data_dir: Path) -> None:
    catalogue = load_catalogue()
    generated = render(load_registry(catalogue), catalogue, read_manifest(built_data_dir))
    page = PAGE.read_text(encoding="utf-8")
    assert page.count(BEGIN) == 1 and page.count(END) == 1
    assert replace_generated(page, generated) == page, "docs/data.md is stale: run python -m geodata.datapage"
