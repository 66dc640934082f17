"""`/api/v1/traces/{trace_id}` and `/api/v1/dead-letters`: the event log for integrations."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Field, Path, Query, Router, Schema
from ninja.errors import HttpError

from jengu.api_common import DbId, InSchema, PageQuery, keyset_page
from jengu.events.models import DeadLetter
from jengu.events.selectors import TraceNode, trace_flat
from jengu.events.services import dead_letter_discard, dead_letter_requeue

traces_router = Router()
dead_letters_router = Router()


class TraceEventOut(Schema):
    event_id: uuid.UUID
    parent_id: uuid.UUID | None
    depth: int = Field(..., description="0 for the root; children follow their parent.")
    type: str
    status: str
    source: str
    queue: str
    actor: str
    attempts: int
    duration_ms: float | None
    error: str
    payload: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


class TraceOut(Schema):
    trace_id: uuid.UUID
    events: list[TraceEventOut] = Field(..., description="Depth first, in time order.")


@traces_router.get("/{trace_id}", response=TraceOut, summary="The event tree of a trace")
def get_trace(request: HttpRequest, trace_id: Path[uuid.UUID]) -> dict:
    nodes = trace_flat(trace_id)
    if not nodes:
        raise HttpError(404, f"no events in trace {trace_id}")
    return {"trace_id": trace_id, "events": [_trace_event(node) for node in nodes]}


def _trace_event(node: TraceNode) -> dict[str, Any]:
    fields = {name: getattr(node.event, name, None) for name in TraceEventOut.model_fields}
    return {**fields, "depth": node.depth}


class DeadLetterFilters(InSchema):
    status: DeadLetter.Status | None = None
    classification: DeadLetter.Classification | None = None
    event_type: str | None = Field(None, max_length=100)
    queue: str | None = Field(None, max_length=64)


class DeadLetterOut(Schema):
    id: int
    event_id: uuid.UUID
    trace_id: uuid.UUID
    event_type: str
    queue: str
    actor: str
    args: dict[str, Any]
    exception_type: str
    exception_message: str
    classification: str
    attempts: int
    first_failed_at: datetime
    last_failed_at: datetime
    status: str
    note: str
    requeue_count: int
    created_at: datetime


class DeadLetterPage(Schema):
    items: list[DeadLetterOut]
    next_cursor: int | None


class DiscardIn(InSchema):
    note: str = Field("", max_length=2000, description="Why it will not be retried.")


@dead_letters_router.get("", response=DeadLetterPage, summary="List dead letters, newest first")
def list_dead_letters(
    request: HttpRequest, filters: Query[DeadLetterFilters], page: Query[PageQuery]
) -> dict:
    lookups = filters.model_dump(exclude_none=True)
    return keyset_page(DeadLetter.objects.filter(**lookups).defer("traceback"), page=page)


@dead_letters_router.get("/{dead_letter_id}", response=DeadLetterOut, summary="A dead letter")
def get_dead_letter(request: HttpRequest, dead_letter_id: Path[DbId]) -> DeadLetter:
    return get_object_or_404(DeadLetter, pk=dead_letter_id)


@dead_letters_router.post(
    "/{dead_letter_id}/requeue", response=DeadLetterOut, summary="Send the event again"
)
def requeue(request: HttpRequest, dead_letter_id: Path[DbId]) -> DeadLetter:
    dead_letter = get_object_or_404(DeadLetter, pk=dead_letter_id)
    try:
        dead_letter_requeue(dead_letter=dead_letter)
    except ValueError as exc:  # resolved already
        raise HttpError(409, str(exc)) from None
    return dead_letter


@dead_letters_router.post(
    "/{dead_letter_id}/discard", response=DeadLetterOut, summary="Mark as not to be retried"
)
def discard(request: HttpRequest, dead_letter_id: Path[DbId], payload: DiscardIn) -> DeadLetter:
    dead_letter = get_object_or_404(DeadLetter, pk=dead_letter_id)
    if dead_letter.status == DeadLetter.Status.RESOLVED:
        raise HttpError(409, f"dead letter {dead_letter.pk} is resolved; nothing to discard")
    note = payload.note or f"discarded through the API by {request.auth.name}"  # type: ignore[attr-defined]
    dead_letter_discard(dead_letter=dead_letter, note=note)
    return dead_letter
