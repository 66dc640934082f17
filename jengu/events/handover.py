"""Hand the events waiting on one queue to another: a down region's to its fallback.

The event log knows every event that was put on a queue and not finished
(`emitted`, `started` by a worker that died, or `retried` and waiting for its
next attempt). Handing one over sends it again, with the same event id, on the
other queue, and records it there. Whichever copy runs first marks the id done;
the other is dropped as a duplicate by `jengu.bus.middleware.Deduplication`, and
the send's fence in PostgreSQL holds even if Redis lost that mark. So the copies
a down region still holds, when its workers come back, do nothing twice.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.utils import timezone

from jengu.bus.emit import Outgoing, send_batch
from jengu.bus.envelope import Envelope

from .models import Event

WAITING = (Event.Status.EMITTED, Event.Status.STARTED, Event.Status.RETRIED)


def events_waiting(*, queue: str) -> int:
    """How many events wait on `queue` according to the log."""
    return Event.objects.filter(queue=queue, status__in=WAITING).count()


def events_hand_over(*, queue: str, to: str, limit: int) -> int:
    """Send up to `limit` of the events waiting on `queue` to `to`, oldest first; how many.

    A delayed event (a retry, a nudge for later) goes at once: every stage treats an
    early run as a check that finds nothing due yet, and schedules the next.
    """
    with transaction.atomic():
        rows = list(
            Event.objects.select_for_update(skip_locked=True)
            .filter(queue=queue, status__in=WAITING)
            .order_by("created_at")[:limit]
        )
        now = timezone.now()
        send_batch([Outgoing(_envelope(row, now), row.payload, queue=to) for row in rows])
    return len(rows)


def _envelope(row: Event, now: datetime) -> Envelope:
    """The event's own envelope again (same id and trace), with a fresh retry budget."""
    return Envelope(
        event_id=row.event_id,
        type=row.type,
        trace_id=row.trace_id,
        parent_id=row.parent_id,
        source=row.source,
        retry_count=0,
        timestamp=now,
    )
