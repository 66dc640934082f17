"""Event type -> the one actor that handles it."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import dramatiq
from django.utils.module_loading import autodiscover_modules

#: Given an event's payload, the region it belongs to (None: the default region).
RegionOf = Callable[[dict[str, Any]], str | None]

_actors: dict[str, dramatiq.Actor] = {}
_region_of: dict[str, RegionOf] = {}
_discovered = threading.Event()


class UnknownEventType(LookupError):
    """No `@event_actor` handles this event type."""


def register(event_type: str, actor: dramatiq.Actor, *, region_of: RegionOf | None = None) -> None:
    existing = _actors.get(event_type)
    if existing is not None and _path(existing) != _path(actor):
        raise ValueError(f"{event_type!r} is already handled by {_path(existing)}")
    _actors[event_type] = actor
    if region_of is not None:
        _region_of[event_type] = region_of


def region_of_event(event_type: str, payload: dict[str, Any]) -> str | None:
    """The region of an event emitted without one: its actor's `region_of`, if any."""
    actor_for(event_type)  # the tasks modules register the resolvers with the actors
    resolver = _region_of.get(event_type)
    return resolver(payload) if resolver is not None else None


def actor_for(event_type: str) -> dramatiq.Actor:
    """The actor of `event_type`, importing every app's `tasks` module on first miss.

    Workers import tasks modules at boot (django_dramatiq); a web process only
    learns the actors when it first emits an event it has not seen declared.
    """
    actor = _actors.get(event_type)
    if actor is None and not _discovered.is_set():
        autodiscover_modules("tasks")
        _discovered.set()
        actor = _actors.get(event_type)
    if actor is None:
        raise UnknownEventType(f"no @event_actor handles {event_type!r}")
    return actor


def actor_path(event_type: str) -> str:
    return _path(actor_for(event_type))


def _path(actor: dramatiq.Actor) -> str:
    return f"{actor.fn.__module__}.{actor.fn.__qualname__}"


def all_actors() -> dict[str, dramatiq.Actor]:
    """Every event type and its actor, after importing every app's `tasks` module."""
    if not _discovered.is_set():
        autodiscover_modules("tasks")
        _discovered.set()
    return dict(_actors)
