"""Regions at run time: which queue an event goes to, and which regions are down.

With `JENGU_REGIONS` unset every function here answers "one region": the plain
stage queues, nothing down, nothing to route. With it set, enrich, compose and send
run on `<stage>-<region>` queues (`jengu.region_config`), workers choose regions
(`rundramatiq --regions eu-west`), and `route()` sends an event for a region whose
workers for that stage stopped beating to the first region, in `JENGU_REGIONS` order,
whose workers for it beat (`JENGU_REGION_DOWN_SECONDS`). `jengu.failover` hands
over the events already waiting on a down region's queues.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import redis
from django.conf import settings
from django.core.exceptions import ValidationError

from jengu.heartbeats import WorkerBeat, heartbeats_fresh
from jengu.region_config import REGIONAL_STAGES, nearest_region, queue_region, region_queue

logger = logging.getLogger(__name__)

# Every process that emits reads the heartbeats at most this often.
LIVENESS_CACHE_SECONDS = 2.0


def regions_enabled() -> bool:
    return bool(settings.JENGU_REGIONS)


def region_names() -> list[str]:
    return [region.name for region in settings.JENGU_REGIONS]


def default_region() -> str | None:
    return settings.JENGU_REGIONS[0].name if settings.JENGU_REGIONS else None


def region_for_timezone(timezone: str) -> str | None:
    """The region of a prospect in `timezone` (IANA; empty → the default region);
    None without regions."""
    if not settings.JENGU_REGIONS:
        return None
    return nearest_region(timezone, settings.JENGU_REGIONS).name


def region_validate(value: str) -> None:
    """A field validator: blank or one of `JENGU_REGIONS`."""
    if value and value not in region_names():
        configured = ", ".join(region_names()) or "none (JENGU_REGIONS is unset)"
        raise ValidationError(f"unknown region {value!r}; configured regions: {configured}")


def stage_of(queue: str) -> str:
    return queue.partition("-")[0]


def is_regional(queue: str) -> bool:
    """True for the queues of enrich, compose and send (plain or a region's)."""
    return stage_of(queue) in REGIONAL_STAGES


def regional_queues(regions: Iterable[str] | None = None) -> list[str]:
    """`<stage>-<region>` for every regional stage of `regions` (default: all)."""
    names = region_names() if regions is None else list(regions)
    return [region_queue(stage, region) for region in names for stage in REGIONAL_STAGES]


def all_queues() -> list[str]:
    """Every pipeline queue: the plain ones (`JENGU_QUEUES`) and each region's."""
    return [*settings.JENGU_QUEUES, *regional_queues()]


def worker_queues(regions: Sequence[str]) -> list[str]:
    """What a worker for `regions` consumes: their regional queues and the shared stages
    (validate, reply, track, scheduled). The default region's workers also drain the
    plain enrich/compose/send queues (messages from before regions were turned on)."""
    unknown = sorted(set(regions) - set(region_names()))
    if unknown:
        configured = ", ".join(region_names()) or "none (JENGU_REGIONS is unset)"
        raise ValueError(f"unknown region {', '.join(unknown)}; configured: {configured}")
    shared = [q for q in settings.JENGU_QUEUES if q not in REGIONAL_STAGES]
    plain = list(REGIONAL_STAGES) if default_region() in regions else []
    return [*regional_queues(regions), *plain, *shared]


@dataclass(frozen=True)
class Liveness:
    """Which queues had a worker beating within `JENGU_REGION_DOWN_SECONDS`."""

    live: frozenset[str]
    beats: tuple[WorkerBeat, ...] = ()

    def is_down(self, queue: str) -> bool:
        return queue not in self.live

    def fallback(self, queue: str) -> str | None:
        """Where a down regional queue's work goes: the same stage in the first region
        whose workers for it beat; None when the queue is up or no region can take it."""
        region = queue_region(queue)
        if region is None or not self.is_down(queue):
            return None
        stage = stage_of(queue)
        return next(
            (
                region_queue(stage, other)
                for other in region_names()
                if other != region and not self.is_down(region_queue(stage, other))
            ),
            None,
        )


def liveness_read() -> Liveness:
    """The heartbeats now (a Redis round trip)."""
    beats = heartbeats_fresh(max_age_seconds=settings.JENGU_REGION_DOWN_SECONDS)
    return Liveness(frozenset(q for beat in beats for q in beat.queues), tuple(beats))


class _LivenessCache:
    """`liveness_read()` at most every `LIVENESS_CACHE_SECONDS` per process.

    Redis unreachable: the last answer stands, and with none every queue counts as
    up — an emit never fails or reroutes for want of the heartbeats.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._value: Liveness | None = None
        self._read_at = float("-inf")

    def get(self) -> Liveness | None:
        with self._lock:
            if time.monotonic() - self._read_at >= LIVENESS_CACHE_SECONDS:
                self._read_at = time.monotonic()
                try:
                    self._value = liveness_read()
                except redis.RedisError as exc:
                    logger.warning("regions: heartbeats unreadable, routing as before: %s", exc)
            return self._value

    def clear(self) -> None:
        with self._lock:
            self._value, self._read_at = None, float("-inf")


liveness_cache = _LivenessCache()


def route(queue: str, region: str | None) -> str:
    """The queue an event of `queue`'s stage for `region` goes to now.

    Without regions, or for a shared stage: `queue` itself. Otherwise the stage's
    queue in `region` (the default region when None or no longer configured), or
    in its fallback while that one is down.
    """
    if not settings.JENGU_REGIONS or not is_regional(queue):
        return queue
    if region not in region_names():
        region = default_region()
    target = region_queue(stage_of(queue), region)
    liveness = liveness_cache.get()
    fallback = liveness.fallback(target) if liveness is not None else None
    return fallback or target
