"""Admin pages, bulk requeue, replay, prune and the failure demo."""

from __future__ import annotations

import uuid
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from jengu.bus import emit
from jengu.bus.envelope import Envelope
from jengu.events.models import DeadLetter, Event
from jengu.events.timeparse import parse_duration, parse_since
from jengu.redis_helpers import get_redis
from tests.brokers import drain


def make_dead_letters(count: int, key: str) -> list[DeadLetter]:
    now = timezone.now()
    rows = []
    for _ in range(count):
        envelope = Envelope.new("TestRecord", parent=None, source="test")
        rows.append(
            DeadLetter(
                event_id=envelope.event_id,
                trace_id=envelope.trace_id,
                event_type="TestRecord",
                queue="track",
                actor="tests.jengu.actors.record",
                envelope=envelope.as_dict(),
                args={"key": key},
                exception_type="TimeoutError",
                exception_message="read timed out",
                traceback="Traceback (most recent call last):\n  ...\nTimeoutError",
                classification="transient",
                attempts=4,
                first_failed_at=now,
                last_failed_at=now,
            )
        )
    return DeadLetter.objects.bulk_create(rows)


def test_bulk_requeue_of_a_filtered_set_of_thousands(
    broker, admin_client, key, db, django_capture_on_commit_callbacks
) -> None:
    make_dead_letters(1200, key)
    url = reverse("admin:events_deadletter_changelist")

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            f"{url}?classification__exact=transient",
            {"action": "requeue", "select_across": "1", "index": "0", "_selected_action": ["1"]},
        )

    assert response.status_code == 302
    assert DeadLetter.objects.filter(status="requeued", requeue_count=1).count() == 1200
    assert broker.do_qsize("track") == 1200
    assert Event.objects.filter(status="emitted").count() == 1200


def test_very_large_requeues_are_handed_to_workers_in_chunks(
    broker, worker, key, admin_client, settings, monkeypatch
) -> None:
    monkeypatch.setattr("jengu.events.services.INLINE_REQUEUE_LIMIT", 10)
    monkeypatch.setattr("jengu.events.services.CHUNK_SIZE", 8)
    make_dead_letters(20, key)

    admin_client.post(
        reverse("admin:events_deadletter_changelist"),
        {"action": "requeue", "select_across": "1", "index": "0", "_selected_action": ["1"]},
    )
    drain(broker, worker)

    assert Event.objects.filter(type="DeadLettersRequeue").count() == 3
    assert DeadLetter.objects.filter(status="resolved").count() == 20
    assert get_redis().llen(key) == 20


def test_dead_letter_pages_show_payload_and_traceback(admin_client, key, db) -> None:
    (dead,) = make_dead_letters(1, key)
    listing = admin_client.get(
        reverse("admin:events_deadletter_changelist"), {"status__exact": "pending"}
    )
    detail = admin_client.get(reverse("admin:events_deadletter_change", args=[dead.pk]))

    assert listing.status_code == 200 and b"TestRecord" in listing.content
    assert detail.status_code == 200
    assert b"TimeoutError" in detail.content and key.encode() in detail.content


def test_trace_page_shows_the_event_tree_with_errors(broker, worker, key, admin_client) -> None:
    root = emit("TestChain", {"key": key, "depth": 1})
    failing = emit("TestFlaky", {"key": f"{key}:f", "fail_times": 9, "kind": "permanent"})
    drain(broker, worker)

    page = admin_client.get(reverse("admin:events_event_trace", args=[root.trace_id]))
    failed = admin_client.get(reverse("admin:events_event_trace", args=[failing.trace_id]))
    events = admin_client.get(reverse("admin:events_event_changelist"), {"q": str(root.trace_id)})

    assert page.status_code == 200 and page.content.count(b"TestChain") >= 2
    assert b"Dead letters in this trace" in failed.content
    assert b"PermanentError" in failed.content
    assert events.status_code == 200


def test_replay_a_trace_emits_its_first_event_again_as_a_child(broker, worker, key) -> None:
    root = emit("TestChain", {"key": key, "depth": 1})
    drain(broker, worker)

    out = StringIO()
    call_command("replay_events", "--trace", str(root.trace_id), "--dry-run", stdout=out)
    assert "Would replay 1 event(s)" in out.getvalue()
    call_command("replay_events", "--trace", str(root.trace_id), stdout=StringIO())
    drain(broker, worker)

    assert get_redis().llen(key) == 4  # the chain ran again
    replayed = Event.objects.get(trace_id=root.trace_id, source="replay")
    assert replayed.parent_id == root.event_id and replayed.status == "succeeded"


def test_replay_by_type_and_since(broker, key, db, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        emit("TestRecord", {"key": key})
        call_command("replay_events", "--type", "TestRecord", "--since", "1h", stdout=StringIO())
    assert Event.objects.filter(type="TestRecord").count() == 2
    assert broker.do_qsize("track") == 2


def test_prune_deletes_old_events_and_closed_dead_letters(key, db) -> None:
    old = timezone.now() - timedelta(days=40)
    Event.objects.create(
        event_id=uuid.uuid4(), trace_id=uuid.uuid4(), type="X", status="succeeded", created_at=old
    )
    Event.objects.create(event_id=uuid.uuid4(), trace_id=uuid.uuid4(), type="X", status="emitted")
    discarded, pending = make_dead_letters(2, key)
    DeadLetter.objects.filter(pk__in=[discarded.pk, pending.pk]).update(last_failed_at=old)
    DeadLetter.objects.filter(pk=discarded.pk).update(status="discarded")

    call_command("prune_events", "--older-than", "30d", stdout=StringIO())

    assert Event.objects.count() == 1
    assert list(DeadLetter.objects.values_list("pk", flat=True)) == [pending.pk]


def test_demo_failure_command_emits_a_failing_event(broker, db) -> None:
    out = StringIO()
    call_command("demo_failure", "--permanent", stdout=out)
    trace_id = out.getvalue().strip().splitlines()[-1]
    assert Event.objects.get(trace_id=trace_id).type == "DemoFailure"


def test_time_parsing() -> None:
    assert parse_duration("30d") == timedelta(days=30)
    assert parse_since("2025-01-02").tzinfo is not None
    with pytest.raises(ValueError):
        parse_since("yesterday-ish")
