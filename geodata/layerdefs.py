"""Layer definitions: one declarative TOML file per layer in ``layers/``, read into an immutable registry."""

from __future__ import annotations

import hashlib
import json
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from geodata.errors import LayerDefinitionError
from geodata.sources import Licence, SourceCatalogue

#: Bumped when a builder changes what it computes, so built layers get a new version hash.
PIPELINE_VERSION = "1"


def _default_layers_dir() -> Path:
    """The checkout's layers/ folder in a development checkout, else the copy the build put in the package.

    A wheel carries the layer files in ``geodata/layers/`` (setup.py copies them at build time); a checkout (an
    editable install too) reads the repository's ``layers/``, so an edited file is used without a rebuild.
    """
    checkout = Path(__file__).resolve().parent.parent
    if (checkout / "pyproject.toml").is_file() and (checkout / "layers").is_dir():
        return checkout / "layers"
    return Path(__file__).resolve().parent / "layers"


#: The layer files (``--layers-dir`` or ``CZMAP_GEODATA__LAYER_DEFINITIONS`` name another folder).
DEFAULT_LAYERS_DIR = _default_layers_dir()
_REQUIRED = ("id", "title", "description", "builder", "sources", "licence", "geometry_type")


@dataclass(frozen=True)
class LayerDefinition:
    """What a layer is, where it comes from and how it is drawn; parsed from ``layers/<id>.toml``."""

    id: str
    title: str
    description: str
    builder: str
    sources: tuple[str, ...]
    licence: Licence
    geometry_type: str
    depends_on: tuple[str, ...] = ()
    params: Mapping[str, Any] = field(default_factory=dict)
    valid_from: str | None = None
    valid_to: str | None = None
    display: Mapping[str, Any] = field(default_factory=dict)
    style: Mapping[str, Any] = field(default_factory=dict)
    keywords: tuple[str, ...] = ()
    path: Path | None = None
    #: Positional accuracy of the geometries in metres (how far an edge may lie from the true line), and why.
    accuracy_m: float = 0.0
    accuracy_note: str = ""

    def fingerprint(self) -> str:
        """Hash of everything in the definition that affects the built data."""
        payload = {
            "pipeline": PIPELINE_VERSION,
            "id": self.id,
            "builder": self.builder,
            "sources": self.sources,
            "params": self.params,
            "valid": [self.valid_from, self.valid_to],
            "display": self.display,
        }
        return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()

    @property
    def display_tolerances_m(self) -> dict[int, float]:
        """Zoom level -> simplification tolerance in metres for the display variants."""
        return {int(z): float(t) for z, t in self.display.get("tolerances_m", {}).items()}


@dataclass(frozen=True)
class LayerRegistry:
    """An immutable set of layer definitions in dependency order."""

    _layers: Mapping[str, LayerDefinition]

    def get(self, layer_id: str) -> LayerDefinition:
        """Return one definition, or raise naming the known ids."""
        try:
            return self._layers[layer_id]
        except KeyError:
            raise LayerDefinitionError(f"unknown layer {layer_id!r}; known: {', '.join(self._layers)}") from None

    def list(self) -> list[str]:
        """Layer ids in build order (every layer after those it depends on)."""
        return list(self._layers)

    def register(self, definition: LayerDefinition) -> LayerRegistry:
        """Return a new registry with ``definition`` added (or replacing one with the same id)."""
        return LayerRegistry(_ordered({**self._layers, definition.id: definition}))

    def __iter__(self) -> Iterator[LayerDefinition]:
        return iter(self._layers.values())

    def __len__(self) -> int:
        return len(self._layers)


def load_registry(catalogue: SourceCatalogue, layers_dir: Path = DEFAULT_LAYERS_DIR) -> LayerRegistry:
    """Read every ``*.toml`` in ``layers_dir`` and check it against the sources manifest."""
    files = sorted(layers_dir.glob("*.toml"))
    if not files:
        raise LayerDefinitionError(f"no layer files (*.toml) in {layers_dir}")
    layers = {d.id: d for d in (parse_definition(f, catalogue) for f in files)}
    return LayerRegistry(_ordered(layers))


def parse_definition(path: Path, catalogue: SourceCatalogue) -> LayerDefinition:
    """Parse and validate one layer file."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise LayerDefinitionError(f"{path.name}: not valid TOML ({exc})") from exc
    missing = [k for k in _REQUIRED if k not in raw]
    if missing:
        raise LayerDefinitionError(f"{path.name}: missing required keys {missing}")
    if raw["id"] != path.stem:
        raise LayerDefinitionError(f"{path.name}: id {raw['id']!r} must match the file name")
    sources = tuple(raw["sources"])
    licence_id = raw["licence"]
    if licence_id not in catalogue.licences:
        raise LayerDefinitionError(f"{path.name}: unknown licence {licence_id!r}")
    _check_share_alike(path.name, licence_id, [catalogue.get(s) for s in sources])
    validity = raw.get("validity", {})
    return LayerDefinition(
        id=raw["id"],
        title=raw["title"],
        description=raw["description"].strip(),
        builder=raw["builder"],
        sources=sources,
        licence=catalogue.licences[licence_id],
        geometry_type=raw["geometry_type"],
        depends_on=tuple(raw.get("depends_on", ())),
        params=MappingProxyType(raw.get("params", {})),
        valid_from=validity.get("valid_from"),
        valid_to=validity.get("valid_to"),
        display=MappingProxyType(raw.get("display", {})),
        style=MappingProxyType(raw.get("style", {})),
        keywords=tuple(raw.get("keywords", ())),
        path=path,
        accuracy_m=_accuracy(path.name, raw.get("accuracy_m")),
        accuracy_note=str(raw.get("accuracy_note", "")).strip(),
    )


def _accuracy(name: str, value: Any) -> float:
    """``accuracy_m`` of a layer file: a number of metres, 0 or more; every layer declares it."""
    if value is None:
        raise LayerDefinitionError(f"{name}: accuracy_m is missing: how far (metres) an edge may lie from the truth")
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        raise LayerDefinitionError(f"{name}: accuracy_m must be a number of metres >= 0, got {value!r}")
    return float(value)


def _check_share_alike(name: str, licence_id: str, sources: list[Any]) -> None:
    share_alike = {s.licence.id for s in sources if s.licence.share_alike}
    if share_alike and share_alike != {licence_id}:
        raise LayerDefinitionError(
            f"{name}: built from share-alike sources ({', '.join(sorted(share_alike))}) so it must carry "
            f"that licence, not {licence_id!r}"
        )


def _ordered(layers: Mapping[str, LayerDefinition]) -> Mapping[str, LayerDefinition]:
    """Topologically order layers so each comes after its dependencies; reject unknown ids and cycles."""
    done: dict[str, LayerDefinition] = {}
    visiting: set[str] = set()

    def visit(layer_id: str, needed_by: str) -> None:
        if layer_id in done:
            return
        if layer_id not in layers:
            raise LayerDefinitionError(f"layer {needed_by!r} depends on unknown layer {layer_id!r}")
        if layer_id in visiting:
            raise LayerDefinitionError(f"layer dependencies form a cycle through {layer_id!r}")
        visiting.add(layer_id)
        for dep in layers[layer_id].depends_on:
            visit(dep, layer_id)
        visiting.discard(layer_id)
        done[layer_id] = layers[layer_id]

    for layer_id in sorted(layers):
        visit(layer_id, layer_id)
    return MappingProxyType(done)


def with_params(definition: LayerDefinition, **params: Any) -> LayerDefinition:
    """Return a copy of ``definition`` with some parameters overridden (used by tests and experiments)."""
    return replace(definition, params=MappingProxyType({**definition.params, **params}))
