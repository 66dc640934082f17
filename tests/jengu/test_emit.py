"""emit(): envelopes, trace inheritance, enqueue on commit, the event log."""

from __future__ import annotations

import uuid

import pytest
from django.db import transaction

from jengu.bus import UnknownEventType, emit, event_actor
from jengu.bus.policies import POLICIES
from jengu.bus.registry import actor_for
from jengu.events.models import Event
from jengu.events.selectors import trace_flat, trace_tree
from jengu.redis_helpers import get_redis
from tests.brokers import drain


def queued(broker, queue: str = "track") -> int:
    return broker.do_qsize(queue)


def test_emit_outside_an_actor_starts_a_trace(
    broker, db, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        envelope = emit("TestRecord", {"key": "k"}, source="api")

    assert envelope.trace_id == envelope.event_id
    assert envelope.parent_id is None and envelope.source == "api"
    assert envelope.retry_count == 0
    event = Event.objects.get(event_id=envelope.event_id)
    assert (event.status, event.queue, event.payload) == ("emitted", "track", {"key": "k"})
    assert queued(broker) == 1


def test_emit_inside_a_rolled_back_transaction_sends_nothing(
    broker, db, django_capture_on_commit_callbacks
) -> None:
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        emit("TestRecord", {"key": "k"})
        raise RuntimeError("rollback")

    assert callbacks == []
    assert queued(broker) == 0
    assert not Event.objects.exists()


def test_emit_inside_a_transaction_sends_on_commit(broker, transactional_db) -> None:
    with transaction.atomic():
        emit("TestRecord", {"key": "k"})
        assert queued(broker) == 0
    assert queued(broker) == 1


def test_payload_must_be_primitives_and_type_must_be_known(broker, db) -> None:
    with pytest.raises(TypeError, match="primitives"):
        emit("TestRecord", {"key": object()})
    with pytest.raises(UnknownEventType):
        emit("NoSuchEvent", {})


def test_queues_carry_the_design_retry_policy() -> None:
    options = actor_for("DemoFailure").options
    assert (options["max_retries"], options["backoff"]) == (5, "exponential")
    assert (options["min_backoff"], options["max_backoff"]) == (1000, 60000)
    assert (POLICIES["send"].max_retries, POLICIES["send"].backoff) == (2, "linear")
    assert (POLICIES["reply"].max_retries, POLICIES["reply"].backoff) == (1, "none")
    assert (POLICIES["validate"].max_retries, POLICIES["compose"].max_retries) == (3, 3)
    with pytest.raises(ValueError, match="unknown queue"):
        event_actor("Nope", queue="nowhere")


def test_events_emitted_by_actors_are_children_on_the_same_trace(broker, worker, key) -> None:
    root = emit("TestChain", {"key": key, "depth": 2})
    drain(broker, worker)

    notes = [line.split("|") for line in get_redis().lrange(key, 0, -1)]
    assert len(notes) == 3
    assert {trace for _, trace, _, _ in notes} == {str(root.trace_id)}
    assert [parent for _, _, parent, _ in notes] == ["None", notes[0][0], notes[1][0]]

    (tree,) = trace_tree(root.trace_id)
    assert tree.event.event_id == root.event_id
    flat = trace_flat(root.trace_id)
    assert [node.depth for node in flat] == [0, 1, 2]
    assert [node.event.status for node in flat] == ["succeeded"] * 3
    assert all(node.event.duration_ms is not None for node in flat)
    assert {node.event.source for node in flat[1:]} == {"TestChain"}


def test_trace_of_an_unknown_id_is_empty(db) -> None:
    assert trace_tree(uuid.uuid4()) == []
