"""The sources manifest (``sources.toml``): what each public file is, where it lives, how to verify it."""

from __future__ import annotations

import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from geodata.errors import LayerDefinitionError

MANIFEST_PATH = Path(__file__).with_name("sources.toml")


@dataclass(frozen=True)
class Licence:
    """A licence as layers and the API show it."""

    id: str
    name: str
    url: str
    share_alike: bool


@dataclass(frozen=True)
class Source:
    """One pinned source file."""

    id: str
    file: str
    sha256: str
    licence: Licence
    attribution: str
    notes: str = ""
    folder: str = ""
    url: str = ""
    bytes: int | None = None
    archive_sha256: str = ""
    package: str = ""
    package_version: str = ""

    @property
    def mirror_path(self) -> str:
        """Path of the file inside a mirror folder."""
        return f"{self.folder}/{self.file}"

    def as_metadata(self) -> dict[str, str]:
        """The fields a layer's metadata carries about this source."""
        return {
            "id": self.id,
            "file": self.file,
            "sha256": self.sha256,
            "url": self.url or f"python package {self.package}=={self.package_version}",
            "licence": self.licence.name,
            "licence_url": self.licence.url,
            "attribution": self.attribution,
        }


@dataclass(frozen=True)
class SourceCatalogue:
    """Every source and licence in the manifest."""

    sources: dict[str, Source]
    licences: dict[str, Licence]

    def get(self, source_id: str) -> Source:
        """Return a source by id, or raise naming the known ids."""
        try:
            return self.sources[source_id]
        except KeyError:
            known = ", ".join(sorted(self.sources))
            raise LayerDefinitionError(f"unknown source {source_id!r}; known sources: {known}") from None

    def attribution(self, source_ids: Iterable[str]) -> str:
        """The credit line of data derived from these sources: each source's attribution once, in order."""
        return "; ".join(dict.fromkeys(self.get(s).attribution.rstrip(".") for s in source_ids))


def load_catalogue(path: Path = MANIFEST_PATH) -> SourceCatalogue:
    """Read and validate the sources manifest."""
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    licences = {
        lid: Licence(id=lid, name=v["name"], url=v["url"], share_alike=bool(v.get("share_alike")))
        for lid, v in raw["licences"].items()
    }
    sources = {}
    for sid, v in raw["sources"].items():
        fields = dict(v)
        licence_id = fields.pop("licence")
        if licence_id not in licences:
            raise LayerDefinitionError(f"source {sid!r} names unknown licence {licence_id!r}")
        sources[sid] = Source(id=sid, licence=licences[licence_id], **fields)
    return SourceCatalogue(sources=sources, licences=licences)
