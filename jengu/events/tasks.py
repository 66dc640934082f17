"""Actors of the events app: the dead-letter auto requeue and the failure demo."""

from __future__ import annotations

from jengu.bus import event_actor

from . import services
from .demo import demo_failure_run
from .models import DeadLetter


@event_actor(services.AUTO_REQUEUE_EVENT, queue="scheduled")
def dead_letter_auto_requeue(dead_letter_id: int) -> None:
    services.dead_letter_auto_requeue(dead_letter_id=dead_letter_id)


@event_actor(services.REQUEUE_CHUNK_EVENT, queue="scheduled")
def dead_letters_requeue_chunk(dead_letter_ids: list[int]) -> None:
    services.dead_letters_requeue(queryset=DeadLetter.objects.filter(pk__in=dead_letter_ids))


@event_actor("DemoFailure", queue="enrich")
def demo_failure(mode: str, outage_until: float) -> None:
    demo_failure_run(mode=mode, outage_until=outage_until)
