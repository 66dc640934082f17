"""`@event_actor`: a Dramatiq actor for one event type on one queue."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dramatiq

from .policies import policy_for
from .registry import RegionOf, register


def event_actor(
    event_type: str, *, queue: str, region_of: RegionOf | None = None, **actor_options: Any
) -> Callable[[Callable[..., Any]], dramatiq.Actor]:
    """Declare the actor that handles `event_type`, with `queue`'s retry policy.

        @event_actor("EnrichProspect", queue="enrich", region_of=region_of_prospect)
        def enrich_prospect(prospect_id: int) -> None: ...

    The function receives the event payload as keyword arguments. Extra
    `actor_options` (e.g. `max_retries`, `time_limit`) override the policy.
    `region_of(payload)` names the region of an event emitted without one, for a
    stage that runs in regions (`jengu.regions`); it is only asked when regions are on.
    """
    options = {**policy_for(queue).actor_options(), **actor_options}

    def decorator(fn: Callable[..., Any]) -> dramatiq.Actor:
        actor = dramatiq.actor(fn, actor_name=event_type, queue_name=queue, **options)
        register(event_type, actor, region_of=region_of)
        return actor

    return decorator
