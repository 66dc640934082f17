"""The scheduler's own ticks: the regions' failover check (only with `JENGU_REGIONS`)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from dramatiq_crontab import interval

from jengu.bus import event_actor
from jengu.failover import regions_failover

logger = logging.getLogger(__name__)


def _with_regions(decorator: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Schedule only when regions are configured: one region has nothing to check."""
    return decorator if settings.JENGU_REGIONS else (lambda actor: actor)


# No retries: the next check, seconds later, does the same from scratch.
@_with_regions(interval(seconds=settings.JENGU_REGION_CHECK_SECONDS))
@event_actor("RegionFailover", queue="scheduled", max_retries=0, time_limit=60_000)
def region_failover() -> None:
    for entry in regions_failover():
        logger.info(
            "RegionFailover: %s down, its work goes to %s (%d waiting events handed over)",
            entry.queue,
            entry.fallback,
            entry.handed_over,
        )
