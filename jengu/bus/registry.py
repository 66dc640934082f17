"""Event type -> the one actor that handles it."""

from __future__ import annotations

import threading

import dramatiq
from django.utils.module_loading import autodiscover_modules

_actors: dict[str, dramatiq.Actor] = {}
_discovered = threading.Event()


class UnknownEventType(LookupError):
    """No `@event_actor` handles this event type."""


def register(event_type: str, actor: dramatiq.Actor) -> None:
    existing = _actors.get(event_type)
    if existing is not None and _path(existing) != _path(actor):
        raise ValueError(f"{event_type!r} is already handled by {_path(existing)}")
    _actors[event_type] = actor


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
