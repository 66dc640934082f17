"""A down region's work goes to its fallback, with an alert; its return is announced too.

Run by the scheduler every `JENGU_REGION_CHECK_SECONDS` (`RegionFailover`). A
regional queue is down when none of the workers consuming it has beaten for
`JENGU_REGION_DOWN_SECONDS`; its fallback is the same stage's queue in the first
region (in `JENGU_REGIONS` order) whose workers beat (`jengu.regions.Liveness`).

- New events for the down region already go to the fallback: `emit()` routes
  through `jengu.regions.route`.
- The events that were waiting on the down queue are handed over from the event
  log (`jengu.events.handover`), a batch per check, with their own event ids, so
  the copies still queued in the down region are dropped as duplicates when its
  workers come back.

Which queues are down, since when and where their work goes, is kept in Redis
(`jengu:regions:down`) for the System page, `/metrics` and `/health`.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import dataclass

from django.conf import settings

from jengu.alerts import alert
from jengu.events.handover import events_hand_over
from jengu.metrics import count, redis_client
from jengu.region_config import queue_region
from jengu.regions import Liveness, liveness_read, regional_queues, regions_enabled

logger = logging.getLogger(__name__)

DOWN_KEY = "jengu:regions:down"


@dataclass(frozen=True)
class DownQueue:
    queue: str
    fallback: str
    since: float  # epoch seconds: the first check that saw it down
    handed_over: int = 0


def regions_failover() -> list[DownQueue]:
    """One check: record down and recovered queues, alert, hand waiting events over."""
    if not regions_enabled():
        return []
    liveness = liveness_read()
    down = _record(liveness)
    handed = []
    for entry in down:
        moved = events_hand_over(
            queue=entry.queue, to=entry.fallback, limit=settings.JENGU_REGION_HANDOVER_BATCH
        )
        if moved:
            logger.warning(
                "regions: %d events of %s handed to %s", moved, entry.queue, entry.fallback
            )
            count("region_events_handed_over", queue=entry.queue, to=entry.fallback, value=moved)
        handed.append(DownQueue(entry.queue, entry.fallback, entry.since, moved))
    return handed


def regions_down() -> list[DownQueue]:
    """The queues the last check found down, with their fallback and since when."""
    raw = redis_client().hgetall(DOWN_KEY)
    return sorted(
        (DownQueue(queue.decode(), **json.loads(value)) for queue, value in raw.items()),
        key=lambda entry: entry.queue,
    )


def _record(liveness: Liveness) -> list[DownQueue]:
    """Store the down queues; alert once per region when it goes down and comes back."""
    previous = {entry.queue: entry for entry in regions_down()}
    now = time.time()
    down = []
    for queue in regional_queues():
        fallback = liveness.fallback(queue)
        if fallback is not None:
            since = previous[queue].since if queue in previous else now
            down.append(DownQueue(queue, fallback, since))
    _store(down, gone=set(previous) - {entry.queue for entry in down})
    _alert_down([entry for entry in down if entry.queue not in previous])
    _alert_back([previous[q] for q in previous if q not in {e.queue for e in down}])
    return down


def _store(down: list[DownQueue], *, gone: set[str]) -> None:
    pipe = redis_client().pipeline()
    if gone:
        pipe.hdel(DOWN_KEY, *gone)
    for entry in down:
        value = {"fallback": entry.fallback, "since": entry.since}
        pipe.hset(DOWN_KEY, entry.queue, json.dumps(value))
    pipe.execute()


def _by_region(entries: list[DownQueue]) -> dict[str, list[DownQueue]]:
    regions: dict[str, list[DownQueue]] = {}
    for entry in entries:
        regions.setdefault(queue_region(entry.queue) or "", []).append(entry)
    return regions


def _alert_down(entries: list[DownQueue]) -> None:
    for region, queues in _by_region(entries).items():
        names = ", ".join(entry.queue for entry in queues)
        targets = ", ".join(sorted({entry.fallback for entry in queues}))
        message = (
            f"Region {region} is down: no worker for {names} has beaten for "
            f"{settings.JENGU_REGION_DOWN_SECONDS} s; its work goes to {targets}"
        )
        alert("region_down", message, dedup_key=f"{region}:{queues[0].since}", region=region)


def _alert_back(entries: list[DownQueue]) -> None:
    for region, queues in _by_region(entries).items():
        names = ", ".join(entry.queue for entry in queues)
        minutes = (time.time() - min(entry.since for entry in queues)) / 60
        message = f"Region {region} is back: workers for {names} beat again after {minutes:.1f} min"
        alert("region_back", message, dedup_key=f"{region}:{queues[0].since}", region=region)
