"""What the app's lifespan hands to each collection provider: the settings and the layer store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.layerstore import LayerStore
    from app.settings import Settings


@dataclass(frozen=True)
class Startup:
    """The settings the app was created with, and the layer store (None when the data folder has no build)."""

    settings: Settings
    layers: LayerStore | None
