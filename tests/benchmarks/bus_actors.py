"""The bus benchmark's actors, in a module of their own so that a worker process
(`dramatiq django_dramatiq.setup tests.benchmarks.bus_actors`) can load them."""

from __future__ import annotations

import dramatiq

from jengu.bus import event_actor


@event_actor("BenchNoop", queue="track")
def bench_noop(n: int) -> None:
    """Does nothing: what is measured is the bus around it."""


@dramatiq.actor(queue_name="track", max_retries=0)
def bench_plain(n: int) -> None:
    """The baseline: a bare Dramatiq actor."""
