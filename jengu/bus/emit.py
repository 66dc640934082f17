"""`emit()`: the only way to put an event on a queue.

Every emitted event is written to the event log in the emitter's transaction. The
log (`jengu.events`) sits above the bus, so the bus announces each batch with the
`events_emitted` signal and the log's receiver writes the rows.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

from django.db import transaction
from django.dispatch import Signal
from dramatiq import Message

from jengu.regions import is_regional, regions_enabled, route

from .envelope import Envelope, current_envelope
from .registry import actor_for, region_of_event

# Sent with `batch` (the `Outgoing` events) and `messages` (their Dramatiq messages)
# before they are enqueued; a receiver's error propagates to the emitter.
events_emitted = Signal()


@dataclass(frozen=True)
class Outgoing:
    """One event ready to send: its envelope, payload and Dramatiq message options."""

    envelope: Envelope
    payload: dict[str, Any]
    options: dict[str, Any] = field(default_factory=dict)
    delay_ms: int | None = None
    # The region of a regional stage's event; None asks the actor's `region_of`.
    region: str | None = None
    # A queue of the actor's stage chosen by the caller (a down region's handover).
    queue: str | None = None


def emit(
    event_type: str,
    payload: dict[str, Any],
    *,
    delay_ms: int | None = None,
    source: str | None = None,
    options: dict[str, Any] | None = None,
    region: str | None = None,
) -> Envelope:
    """Record and enqueue an event; returns its envelope.

    Inside an actor the running event becomes the parent and lends its trace.
    Inside a transaction the message is sent on commit (and never on rollback).
    `payload` is the actor's keyword arguments: ids and primitives only.
    `options` are Dramatiq message options for this message (e.g. `max_retries`,
    `min_backoff`, `time_limit`); the queue's policy applies otherwise.
    `region`: for enrich, compose and send with regions on, the region whose queue
    takes it (`jengu.regions.route`); without it the actor's `region_of` tells.
    """
    envelope = Envelope.new(event_type, parent=current_envelope(), source=source)
    send_batch([Outgoing(envelope, payload, options or {}, delay_ms, region)])
    return envelope


def emit_many(
    event_type: str,
    payloads: Sequence[dict[str, Any]],
    *,
    source: str | None = None,
    options: dict[str, Any] | None = None,
    regions: Sequence[str | None] | None = None,
) -> list[Envelope]:
    """`emit` for many events of one type: their event-log rows are one statement.

    For producers that emit in bulk (batches, sweeps, imports). `regions`, when
    given, is each payload's region (see `emit`).
    """
    parent = current_envelope()
    regions = regions if regions is not None else [None] * len(payloads)
    batch = [
        Outgoing(
            Envelope.new(event_type, parent=parent, source=source),
            payload,
            options or {},
            region=region,
        )
        for payload, region in zip(payloads, regions, strict=True)
    ]
    send_batch(batch)
    return [item.envelope for item in batch]


def send_batch(batch: Sequence[Outgoing]) -> None:
    """Record a batch in the event log (one statement) and enqueue it on commit.

    Used by `emit`, `emit_many` and by requeue/replay, which build envelopes themselves
    (the same event id again, or a replay child of a recorded event).
    """
    messages = [_message(item) for item in batch]
    events_emitted.send(Outgoing, batch=batch, messages=messages)
    for item, message in zip(batch, messages, strict=True):
        transaction.on_commit(partial(_enqueue, message, item.delay_ms))


def _message(item: Outgoing) -> Message:
    actor = actor_for(item.envelope.type)
    _check_payload(item.envelope.type, item.payload)
    return Message(
        queue_name=_queue(actor, item),
        actor_name=actor.actor_name,
        args=(),
        kwargs=item.payload,
        options={**item.options, "envelope": item.envelope.as_dict()},
        message_id=str(item.envelope.event_id),
    )


def _queue(actor: Any, item: Outgoing) -> str:
    """The actor's queue, or for a regional stage with regions on, its region's."""
    if item.queue is not None:
        return item.queue
    if not regions_enabled() or not is_regional(actor.queue_name):
        return actor.queue_name
    region = item.region or region_of_event(item.envelope.type, item.payload)
    return route(actor.queue_name, region)


def _enqueue(message: Message, delay_ms: int | None) -> None:
    actor_for(message.actor_name).broker.enqueue(message, delay=delay_ms)


def _check_payload(event_type: str, payload: dict[str, Any]) -> None:
    # Fail in the caller, not later in an on_commit hook after the data is saved.
    try:
        json.dumps(payload)
    except TypeError as exc:
        message = f"{event_type} payload must be JSON primitives (ids, not objects): {exc}"
        raise TypeError(message) from exc
