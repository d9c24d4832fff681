"""The event store as an :class:`app.analysis.truces.EventLister` (reported events over a period)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from app.collections.event_adapters import matching_features
from app.events.service import EventService


class StoreEventLister:
    """Event features of the open event service whose dates overlap a period, read page by page."""

    def __init__(self, service: EventService) -> None:
        self.service = service

    def features(self, start: date, end: date) -> Iterator[dict[str, Any]]:
        """See :class:`app.analysis.truces.EventLister`."""
        return matching_features(self.service, None, start, end)
