"""The event envelope and the "current event" of the running actor."""

from __future__ import annotations

import uuid
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from time import monotonic
from typing import Any


@dataclass(frozen=True)
class Envelope:
    """What every event carries besides its payload (docs/pipeline.md, "Principles").

    `trace_id` is shared by every event caused by the same first event;
    `parent_id` is the event whose actor emitted this one; `retry_count` is the
    number of failed attempts before the current one.
    """

    event_id: uuid.UUID
    type: str
    trace_id: uuid.UUID
    parent_id: uuid.UUID | None
    source: str
    retry_count: int
    timestamp: datetime

    @classmethod
    def new(cls, event_type: str, *, parent: Envelope | None, source: str | None) -> Envelope:
        """A fresh event: a child of `parent` when there is one, else a new trace."""
        event_id = uuid.uuid4()
        return cls(
            event_id=event_id,
            type=event_type,
            trace_id=parent.trace_id if parent else event_id,
            parent_id=parent.event_id if parent else None,
            source=source or (parent.type if parent else "app"),
            retry_count=0,
            timestamp=datetime.now(UTC),
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "event_id": str(self.event_id),
            "type": self.type,
            "trace_id": str(self.trace_id),
            "parent_id": str(self.parent_id) if self.parent_id else None,
            "source": self.source,
            "retry_count": self.retry_count,
            "timestamp": self.timestamp.isoformat(),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Envelope:
        parent_id = data.get("parent_id")
        return cls(
            event_id=uuid.UUID(data["event_id"]),
            type=data["type"],
            trace_id=uuid.UUID(data["trace_id"]),
            parent_id=uuid.UUID(parent_id) if parent_id else None,
            source=data.get("source") or "",
            retry_count=int(data.get("retry_count") or 0),
            timestamp=datetime.fromisoformat(data["timestamp"]),
        )

    def with_retry_count(self, retry_count: int) -> Envelope:
        return replace(self, retry_count=retry_count)


@dataclass
class Processing:
    """Per-message state the middleware share while one actor runs."""

    envelope: Envelope
    queue: str
    actor: str
    started: float = field(default_factory=monotonic)
    started_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    dead_letter_id: int | None = None

    def elapsed_ms(self) -> float:
        return (monotonic() - self.started) * 1000


# Each worker thread runs one message at a time in its own context, so a
# context variable is the "current event" of exactly one actor call.
_processing: ContextVar[Processing | None] = ContextVar("jengu_processing", default=None)


def current_processing() -> Processing | None:
    return _processing.get()


def current_envelope() -> Envelope | None:
    """The envelope of the event whose actor is running here, or None outside actors."""
    processing = _processing.get()
    return processing.envelope if processing else None


def set_processing(processing: Processing | None) -> None:
    _processing.set(processing)
