"""Reads of the event log: traces, and the events a replay would send."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import QuerySet

from .models import Event


@dataclass
class TraceNode:
    event: Event
    depth: int = 0
    children: list[TraceNode] = field(default_factory=list)

    def walk(self) -> Iterator[TraceNode]:
        """This node and its descendants, depth first, children in time order."""
        yield self
        for child in self.children:
            yield from child.walk()


def trace_tree(trace_id: uuid.UUID | str) -> list[TraceNode]:
    """The events of one trace as a forest in time order.

    Roots are the events whose parent is not in the trace (normally the one
    first event). The admin, the API and the dashboard all render this.
    """
    events = Event.objects.filter(trace_id=trace_id).order_by("created_at", "pk")
    nodes = {event.event_id: TraceNode(event) for event in events}
    roots: list[TraceNode] = []
    for node in nodes.values():
        parent = nodes.get(node.event.parent_id) if node.event.parent_id else None
        (parent.children if parent else roots).append(node)
    for root in roots:
        _set_depths(root, 0)
    return roots


def _set_depths(node: TraceNode, depth: int) -> None:
    node.depth = depth
    for child in node.children:
        _set_depths(child, depth + 1)


def trace_flat(trace_id: uuid.UUID | str) -> list[TraceNode]:
    """`trace_tree` flattened depth first (for tables with indentation)."""
    return [node for root in trace_tree(trace_id) for node in root.walk()]


def events_to_replay(
    *,
    trace_id: uuid.UUID | str | None = None,
    event_type: str | None = None,
    since: datetime | None = None,
) -> QuerySet[Event]:
    """Queued events (not notices) to replay.

    For a trace: its first event(s) only, since their actors emit the rest again.
    """
    events = Event.objects.exclude(status=Event.Status.RECORDED).order_by("created_at", "pk")
    if trace_id:
        in_trace = Event.objects.filter(trace_id=trace_id)
        events = events.filter(trace_id=trace_id).exclude(parent_id__in=in_trace.values("event_id"))
    if event_type:
        events = events.filter(type=event_type)
    if since:
        events = events.filter(created_at__gte=since)
    return events
