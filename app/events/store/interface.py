"""The event store interface: what the service (:mod:`app.events.service`) may ask of any backend.

A store knows nothing of authorisation or zones: the service decides who may write what and computes zones
before calling the store.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import ClassVar, Protocol

from app.events.model import Event
from app.events.store.base import AuditEntry, EventPage, EventQuery, KeyRecord, StoreExtent


class StoreTx(Protocol):
    """The writes available inside one store transaction (committed together or not at all)."""

    def get(self, event_id: str) -> Event | None:
        """The stored event, locked for update, or None."""
        ...

    def existing(self, event_ids: Sequence[str]) -> set[str]:
        """Which of ``event_ids`` are stored."""
        ...

    def insert(self, event: Event) -> None:
        """Store a new event."""
        ...

    def update(self, event: Event) -> None:
        """Overwrite a stored event."""
        ...

    def add_audit(self, entry: AuditEntry) -> None:
        """Append to the audit trail (``seq`` is assigned by the database)."""
        ...


class EventStore(ABC):
    """Where events, their audit trail and API keys live."""

    backend: ClassVar[str]

    @abstractmethod
    def query(self, query: EventQuery) -> EventPage:
        """One page of matching events, ordered by (date_start, id), and how many match (exact up to a cap)."""

    @abstractmethod
    def get(self, event_id: str) -> Event | None:
        """The event, or None."""

    @abstractmethod
    def iter_events(self, batch_size: int = 1000) -> Iterator[Event]:
        """Every stored event, in id order, read in batches."""

    @abstractmethod
    def transaction(self) -> AbstractContextManager[StoreTx]:
        """A write transaction, committed durably when the block exits without error."""

    @abstractmethod
    def audit(self, event_id: str) -> list[AuditEntry]:
        """The audit trail of one event, oldest first."""

    @abstractmethod
    def count(self) -> int:
        """How many events are stored."""

    @abstractmethod
    def data_version(self) -> str:
        """A value that changes whenever a write is committed (by any process)."""

    @abstractmethod
    def extent(self) -> StoreExtent:
        """The events' bounding box (CRS84) and their first and last day, from indexes (no scan of the events)."""

    @abstractmethod
    def add_key(self, record: KeyRecord) -> None:
        """Store a new API key record."""

    @abstractmethod
    def get_key(self, key_id: str) -> KeyRecord | None:
        """The key record, or None."""

    @abstractmethod
    def revoke_key(self, key_id: str, at: datetime) -> bool:
        """Mark a key revoked; False if there is no such active key."""

    @abstractmethod
    def list_keys(self) -> list[KeyRecord]:
        """Every key record (hashes included; never the secrets)."""

    @abstractmethod
    def schema_version(self) -> int:
        """The highest migration applied."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""

    def ping(self) -> None:
        """Reach the storage once; raises :class:`~app.events.errors.StoreDown` when it cannot be reached."""
        self.count()

    def __enter__(self) -> EventStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
