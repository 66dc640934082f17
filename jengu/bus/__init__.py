"""The event bus: `emit()` events, handle them with `@event_actor`.

    from jengu.bus import emit, event_actor

    @event_actor("EnrichProspect", queue="enrich")
    def enrich_prospect(prospect_id: int) -> None: ...

    emit("EnrichProspect", {"prospect_id": prospect.id})

See the README, "The event pipeline", for retries, dead letters and tracing.
"""

from jengu.failures import (
    INVALID_DATA,
    PERMANENT,
    TRANSIENT,
    InvalidDataError,
    PermanentError,
    TransientError,
    classify,
)

from .actors import event_actor
from .emit import emit, emit_many
from .envelope import Envelope, current_envelope
from .policies import QUEUES
from .registry import UnknownEventType

__all__ = [
    "INVALID_DATA",
    "PERMANENT",
    "QUEUES",
    "TRANSIENT",
    "Envelope",
    "InvalidDataError",
    "PermanentError",
    "TransientError",
    "UnknownEventType",
    "classify",
    "current_envelope",
    "emit",
    "emit_many",
    "event_actor",
]
