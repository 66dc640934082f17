"""What the event log records when a layer below it announces something.

The bus and the Redis helpers cannot import the log (it sits above them), so they
send signals; `EventsConfig.ready()` connects these receivers to them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from dramatiq import Message

from jengu.bus.emit import Outgoing, events_emitted
from jengu.redis_helpers.breaker import CLOSED, HALF_OPEN, OPEN, breaker_changed

from .services import event_record_emitted, event_record_notice

BREAKER_EVENT_TYPES = {
    OPEN: "breaker.opened",
    HALF_OPEN: "breaker.half_opened",
    CLOSED: "breaker.closed",
}


def record_emitted(
    sender: Any, *, batch: Sequence[Outgoing], messages: Sequence[Message], **kwargs: Any
) -> None:
    event_record_emitted(batch=batch, messages=messages)


def record_breaker_change(
    sender: Any, *, name: str, state: str, reset: bool = False, **kwargs: Any
) -> None:
    payload: dict[str, Any] = {"breaker": name, "reset": True} if reset else {"breaker": name}
    event_record_notice(event_type=BREAKER_EVENT_TYPES[state], payload=payload)


def receivers_connect() -> None:
    events_emitted.connect(record_emitted, dispatch_uid="jengu.events.record_emitted")
    breaker_changed.connect(record_breaker_change, dispatch_uid="jengu.events.record_breaker")
