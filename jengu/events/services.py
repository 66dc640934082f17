"""Writes to the event log and the dead letters; requeue, replay, prune."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from itertools import islice
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F, QuerySet
from django.utils import timezone
from dramatiq import Message

from jengu.alerts import alert
from jengu.bus.emit import Outgoing, emit, send_batch
from jengu.bus.envelope import Envelope, Processing, current_envelope
from jengu.bus.registry import actor_path
from jengu.failures import PERMANENT, TRANSIENT, classify

from .log_writer import events_write
from .models import DeadLetter, Event

logger = logging.getLogger(__name__)

AUTO_REQUEUE_EVENT = "DeadLetterAutoRequeue"
REQUEUE_CHUNK_EVENT = "DeadLettersRequeue"
CHUNK_SIZE = 500
# Above this many rows an admin request hands the requeue to workers (chunk events).
INLINE_REQUEUE_LIMIT = 2000


def batched(items: Iterable[Any], size: int) -> Iterable[list[Any]]:
    """`itertools.batched` arrived in Python 3.12; we run 3.11."""
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def _event(envelope: Envelope, **fields: Any) -> Event:
    return Event(
        event_id=envelope.event_id,
        trace_id=envelope.trace_id,
        parent_id=envelope.parent_id,
        type=envelope.type,
        source=envelope.source,
        created_at=envelope.timestamp,
        **fields,
    )


def event_record_emitted(*, batch: Sequence[Outgoing], messages: Sequence[Message]) -> None:
    """One statement for the batch; inside the caller's transaction when there is one."""
    rows = [
        _event(
            item.envelope,
            status=Event.Status.EMITTED,
            queue=message.queue_name,
            actor=actor_path(item.envelope.type),
            payload=item.payload,
        )
        for item, message in zip(batch, messages, strict=True)
    ]
    events_write(rows=rows)


def event_started_row(*, processing: Processing, payload: dict[str, Any]) -> Event:
    """The `started` row of a running event (unsaved: the worker buffers it)."""
    envelope = processing.envelope
    return _event(
        envelope,
        status=Event.Status.STARTED,
        queue=processing.queue,
        actor=actor_path(envelope.type),
        payload=payload,
        attempts=envelope.retry_count + 1,
        started_at=processing.started_at,
    )


def event_outcome_row(
    *,
    processing: Processing,
    payload: dict[str, Any],
    exception: BaseException | None,
    final: bool,
) -> Event:
    """The outcome row of a finished attempt (unsaved); it carries `started_at`
    as well, so a short run needs no `started` row of its own.

    `final`: the message failed for good (no retry follows).
    """
    if exception is None:
        status = Event.Status.SUCCEEDED
    elif not final:
        status = Event.Status.RETRIED
    else:
        status = Event.Status.DEAD if processing.dead_letter_id else Event.Status.FAILED
    row = event_started_row(processing=processing, payload=payload)
    row.status = status
    row.duration_ms = processing.elapsed_ms()
    row.error = _describe(exception) if exception else ""
    row.finished_at = timezone.now()
    return row


def event_record_notice(
    *, event_type: str, payload: dict[str, Any], source: str = "system"
) -> Event:
    """Log something that happened but is not queued (a breaker opening).

    Inside an actor the notice joins the running trace, so a trace shows the
    breaker its failures tripped.
    """
    envelope = Envelope.new(event_type, parent=current_envelope(), source=source)
    event = _event(envelope, status=Event.Status.RECORDED, payload=payload)
    event.save()
    return event


def _describe(exception: BaseException) -> str:
    return f"{type(exception).__name__}: {exception}"


def _qualname(exception: BaseException) -> str:
    cls = type(exception)
    return cls.__qualname__ if cls.__module__ == "builtins" else f"{cls.__module__}.{cls.__name__}"


def _from_ms(ms: int | None) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else timezone.now()


def dead_letter_record(
    *,
    processing: Processing,
    payload: dict[str, Any],
    exception: BaseException,
    options: dict[str, Any],
) -> DeadLetter:
    """Store (or refresh, after a failed requeue) the dead letter of an event.

    Permanent failures raise an alert; transient ones are requeued once by
    themselves after `DEAD_LETTER_AUTO_REQUEUE_SECONDS` (0 = never).
    """
    envelope = processing.envelope
    classification = options.get("classification") or classify(exception)
    fields = {
        "trace_id": envelope.trace_id,
        "event_type": envelope.type,
        "queue": processing.queue,
        "actor": actor_path(envelope.type),
        "envelope": envelope.with_retry_count(0).as_dict(),
        "args": payload,
        "exception_type": _qualname(exception),
        "exception_message": str(exception),
        "traceback": options.get("traceback", ""),
        "classification": classification,
        "attempts": options.get("retries", envelope.retry_count + 1),
        "last_failed_at": timezone.now(),
        "status": DeadLetter.Status.PENDING,
    }
    dead_letter, _ = DeadLetter.objects.update_or_create(
        event_id=envelope.event_id,
        defaults=fields,
        create_defaults={**fields, "first_failed_at": _from_ms(options.get("first_failure_at"))},
    )
    logger.warning("dead letter %s: %s", dead_letter.pk, _describe(exception))
    if classification == PERMANENT:
        alert(
            "dead_letter",
            f"{envelope.type} failed permanently: {_describe(exception)}",
            dead_letter_id=dead_letter.pk,
            event_id=envelope.event_id,
            trace_id=envelope.trace_id,
        )
    delay = settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS
    if classification == TRANSIENT and delay > 0 and not dead_letter.auto_requeued:
        emit(AUTO_REQUEUE_EVENT, {"dead_letter_id": dead_letter.pk}, delay_ms=delay * 1000)
    return dead_letter


def _requeue_rows(rows: list[DeadLetter]) -> list[Envelope]:
    """Re-emit each row's event: same event id and trace, a fresh retry budget."""
    now = timezone.now()
    envelopes = [
        replace(Envelope.from_dict(row.envelope), retry_count=0, timestamp=now) for row in rows
    ]
    send_batch(
        [
            Outgoing(envelope, row.args, {"requeued_dead_letter": row.pk})
            for envelope, row in zip(envelopes, rows, strict=True)
        ]
    )
    DeadLetter.objects.filter(pk__in=[row.pk for row in rows]).update(
        status=DeadLetter.Status.REQUEUED, requeue_count=F("requeue_count") + 1, updated_at=now
    )
    return envelopes


def dead_letter_requeue(*, dead_letter: DeadLetter) -> Envelope:
    """Requeue one dead letter (refused once it is resolved)."""
    with transaction.atomic():
        row = DeadLetter.objects.select_for_update().get(pk=dead_letter.pk)
        if row.status == DeadLetter.Status.RESOLVED:
            raise ValueError(f"dead letter {row.pk} is resolved; nothing to requeue")
        envelope = _requeue_rows([row])[0]
    dead_letter.refresh_from_db()
    return envelope


def dead_letters_requeue(*, queryset: QuerySet[DeadLetter], chunk_size: int = CHUNK_SIZE) -> int:
    """Requeue a filtered set of any size, `chunk_size` rows per transaction.

    Rows another operator is requeueing at the same moment are skipped
    (`SKIP LOCKED`), so two clicks never send an event twice.
    """
    pks = queryset.exclude(status=DeadLetter.Status.RESOLVED).order_by("pk")
    total = 0
    for chunk in batched(list(pks.values_list("pk", flat=True)), chunk_size):
        with transaction.atomic():
            rows = list(
                DeadLetter.objects.select_for_update(skip_locked=True)
                .filter(pk__in=chunk)
                .exclude(status=DeadLetter.Status.RESOLVED)
            )
            total += len(_requeue_rows(rows)) if rows else 0
    return total


def dead_letters_requeue_in_background(*, queryset: QuerySet[DeadLetter]) -> int:
    """Emit one `DeadLettersRequeue` event per chunk of ids; workers do the requeue."""
    pks = list(queryset.exclude(status=DeadLetter.Status.RESOLVED).values_list("pk", flat=True))
    for chunk in batched(pks, CHUNK_SIZE):
        emit(REQUEUE_CHUNK_EVENT, {"dead_letter_ids": chunk}, source="admin")
    return len(pks)


def dead_letter_discard(*, dead_letter: DeadLetter, note: str) -> None:
    dead_letters_discard(queryset=DeadLetter.objects.filter(pk=dead_letter.pk), note=note)
    dead_letter.refresh_from_db()


def dead_letters_discard(*, queryset: QuerySet[DeadLetter], note: str) -> int:
    """Mark as reviewed and not to be retried; the note says why."""
    return queryset.exclude(status=DeadLetter.Status.RESOLVED).update(
        status=DeadLetter.Status.DISCARDED, note=note, updated_at=timezone.now()
    )


def dead_letter_auto_requeue(*, dead_letter_id: int) -> bool:
    """The one automatic requeue of a transient dead letter, if still pending."""
    with transaction.atomic():
        row = (
            DeadLetter.objects.select_for_update()
            .filter(pk=dead_letter_id, status=DeadLetter.Status.PENDING, auto_requeued=False)
            .first()
        )
        if row is None:
            return False
        DeadLetter.objects.filter(pk=row.pk).update(auto_requeued=True)
        _requeue_rows([row])
    return True


def dead_letter_mark_resolved(*, dead_letter_id: int) -> None:
    DeadLetter.objects.filter(pk=dead_letter_id, status=DeadLetter.Status.REQUEUED).update(
        status=DeadLetter.Status.RESOLVED, updated_at=timezone.now()
    )


def events_replay(*, events: Iterable[Event], chunk_size: int = CHUNK_SIZE) -> list[Envelope]:
    """Re-emit recorded events as new events (new ids: the originals are marked
    processed) in the original trace, each a child of the event it replays."""
    envelopes = []
    for chunk in batched(events, chunk_size):
        batch = [Outgoing(_replay_envelope(event), event.payload) for event in chunk]
        with transaction.atomic():
            send_batch(batch)
        envelopes.extend(item.envelope for item in batch)
    return envelopes


def _replay_envelope(event: Event) -> Envelope:
    return Envelope(
        event_id=uuid.uuid4(),
        type=event.type,
        trace_id=event.trace_id,
        parent_id=event.event_id,
        source="replay",
        retry_count=0,
        timestamp=timezone.now(),
    )


def events_prune(*, older_than: timedelta, chunk_size: int = 10_000) -> tuple[int, int]:
    """Delete events and closed (discarded/resolved) dead letters older than the cutoff.

    Deletes in chunks so a big first prune does not hold one huge transaction.
    Returns (events deleted, dead letters deleted).
    """
    cutoff = timezone.now() - older_than
    events = _delete_in_chunks(Event.objects.filter(created_at__lt=cutoff), chunk_size)
    closed = [DeadLetter.Status.DISCARDED, DeadLetter.Status.RESOLVED]
    dead = _delete_in_chunks(
        DeadLetter.objects.filter(status__in=closed, last_failed_at__lt=cutoff), chunk_size
    )
    return events, dead


def _delete_in_chunks(queryset: QuerySet, chunk_size: int) -> int:
    total = 0
    while pks := list(queryset.values_list("pk", flat=True)[:chunk_size]):
        total += queryset.model.objects.filter(pk__in=pks).delete()[0]
    return total
