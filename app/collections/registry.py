"""An immutable registry of the collections the service publishes."""

from __future__ import annotations

import builtins
import hashlib
from collections.abc import Iterable, Iterator

from app.collections.base import Collection
from app.errors import CollectionNotFound


class CollectionRegistry:
    """Collections by id, in publication order; ``register`` returns a new registry.

    Examples
    --------
    >>> CollectionRegistry().ids
    []

    """

    def __init__(self, collections: Iterable[Collection] = ()) -> None:
        self._by_id: dict[str, Collection] = {}
        for collection in collections:
            if collection.meta.id in self._by_id:
                raise ValueError(f"duplicate collection id {collection.meta.id!r}")
            self._by_id[collection.meta.id] = collection

    def register(self, *collections: Collection) -> CollectionRegistry:
        """A new registry holding these collections after the current ones."""
        return CollectionRegistry([*self._by_id.values(), *collections])

    def get(self, collection_id: str) -> Collection:
        """The collection with this id; raises :class:`CollectionNotFound`."""
        try:
            return self._by_id[collection_id]
        except KeyError:
            raise CollectionNotFound(collection_id, self.ids) from None

    def list(self) -> builtins.list[Collection]:
        """Every collection, in publication order."""
        return list(self._by_id.values())

    @property
    def ids(self) -> builtins.list[str]:
        """Ids of every collection."""
        return list(self._by_id)

    @property
    def version(self) -> str:
        """A hash of every collection's id and version, which changes whenever any collection does."""
        digest = hashlib.sha256()
        for cid, collection in self._by_id.items():
            digest.update(f"{cid}={collection.meta.version};".encode())
        return digest.hexdigest()[:16]

    def __iter__(self) -> Iterator[Collection]:
        return iter(self._by_id.values())

    def __len__(self) -> int:
        return len(self._by_id)
