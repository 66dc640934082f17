"""Retries, dead letters and requeue, with real workers on each broker."""

from __future__ import annotations

import pytest
from django.core.management import call_command
from django.urls import reverse

from jengu.bus import emit
from jengu.events.models import DeadLetter, Event
from jengu.metrics import TOTALS_KEY, redis_client
from jengu.redis_helpers import get_redis
from tests.brokers import both_brokers, drain

pytestmark = both_brokers
FAST = {"min_backoff": 40, "max_backoff": 200}


def attempts(key: str) -> int:
    return int(get_redis().get(key) or 0)


def test_a_transient_failure_is_retried_exactly_its_budget_then_dead_lettered(
    broker, worker, key, settings
) -> None:
    settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS = 0
    # Given an actor that always fails transiently, with 3 retries of fast backoff
    envelope = emit("TestFlaky", {"key": key, "fail_times": 99}, options={**FAST, "max_retries": 3})
    # When the worker has done all it will do
    drain(broker, worker)
    # Then it ran 1 + 3 times, with a backoff between attempts, and is a dead letter
    assert attempts(key) == 4
    times = [float(t) for t in get_redis().lrange(f"{key}:at", 0, -1)]
    assert all(later - earlier >= 0.04 for earlier, later in zip(times, times[1:], strict=False))
    dead = DeadLetter.objects.get(event_id=envelope.event_id)
    assert (dead.attempts, dead.classification, dead.status) == (4, "transient", "pending")
    assert dead.exception_type == "jengu.failures.TransientError"
    assert "attempt 4 failed on purpose" in dead.traceback
    assert dead.args == {"key": key, "fail_times": 99}
    assert dead.first_failed_at < dead.last_failed_at
    event = Event.objects.get(event_id=envelope.event_id)
    assert (event.status, event.attempts) == ("dead", 4)


def test_queue_policy_budget_applies_without_overrides(broker, worker, key, settings) -> None:
    settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS = 0
    # "track" allows 3 retries; only the backoff is shortened for the test
    emit("TestFlaky", {"key": key, "fail_times": 99}, options=FAST)
    drain(broker, worker)
    assert attempts(key) == 4


def test_a_permanent_failure_skips_retries_and_alerts(broker, worker, key, caplog) -> None:
    envelope = emit("TestFlaky", {"key": key, "fail_times": 99, "kind": "permanent"})
    drain(broker, worker)

    assert attempts(key) == 1
    dead = DeadLetter.objects.get(event_id=envelope.event_id)
    assert (dead.attempts, dead.classification) == (1, "permanent")
    assert any("ALERT dead_letter" in r.getMessage() for r in caplog.records) or any(
        r.name == "jengu.alerts" for r in caplog.records
    )


def test_requeue_from_the_admin_runs_the_same_event_again_in_its_trace(
    broker, worker, key, admin_client, settings
) -> None:
    settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS = 0
    # Given a dead letter whose cause is gone by the time it is requeued
    envelope = emit("TestFlaky", {"key": key, "fail_times": 2}, options={**FAST, "max_retries": 1})
    drain(broker, worker)
    dead = DeadLetter.objects.get(event_id=envelope.event_id)
    assert attempts(key) == 2

    # When an operator requeues it from the admin
    response = admin_client.post(
        reverse("admin:events_deadletter_changelist"),
        {"action": "requeue", "_selected_action": [dead.pk]},
    )
    assert response.status_code == 302
    drain(broker, worker)

    # Then the same event id ran again, under the same trace, and the row is resolved
    assert attempts(key) == 3
    dead.refresh_from_db()
    assert (dead.status, dead.requeue_count) == ("resolved", 1)
    event = Event.objects.get(event_id=envelope.event_id)
    assert (event.status, event.trace_id) == ("succeeded", envelope.trace_id)
    assert Event.objects.filter(trace_id=envelope.trace_id).count() == 1


def test_requeue_from_the_command_with_filters_and_dry_run(broker, worker, key, settings) -> None:
    settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS = 0
    envelope = emit("TestFlaky", {"key": key, "fail_times": 1}, options={"max_retries": 0})
    drain(broker, worker)
    assert DeadLetter.objects.filter(status="pending").count() == 1

    call_command("requeue_dead_letters", "--queue", "enrich")
    call_command("requeue_dead_letters", "--queue", "track", "--dry-run")
    assert DeadLetter.objects.get().status == "pending"

    call_command("requeue_dead_letters", "--queue=track", "--reason=transient", "--since=1h")
    drain(broker, worker)

    assert attempts(key) == 2
    assert DeadLetter.objects.get().status == "resolved"
    assert Event.objects.get(event_id=envelope.event_id).status == "succeeded"


def test_transient_dead_letters_are_requeued_once_automatically(
    broker, worker, key, settings
) -> None:
    settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS = 1
    # Given an event that fails its only attempt (no retries for this message)
    envelope = emit("TestFlaky", {"key": key, "fail_times": 1}, options={"max_retries": 0})
    # When the dead letter's automatic requeue comes due
    drain(broker, worker)
    # Then the event ran once more (with the queue's own retry budget) and succeeded
    dead = DeadLetter.objects.get(event_id=envelope.event_id)
    assert attempts(key) == 2
    assert dead.auto_requeued and dead.status == "resolved"
    trace_types = set(
        Event.objects.filter(trace_id=envelope.trace_id).values_list("type", flat=True)
    )
    assert trace_types == {"TestFlaky", "DeadLetterAutoRequeue"}


@pytest.mark.django_db(transaction=True)
def test_discard_with_a_note_from_the_admin(broker, worker, key, admin_client, settings) -> None:
    settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS = 0
    emit("TestFlaky", {"key": key, "fail_times": 9, "kind": "permanent"})
    drain(broker, worker)
    dead = DeadLetter.objects.get()
    url = reverse("admin:events_deadletter_changelist")

    form = admin_client.post(url, {"action": "discard", "_selected_action": [dead.pk]})
    assert form.status_code == 200 and b"note" in form.content
    admin_client.post(
        url,
        {"action": "discard", "_selected_action": [dead.pk], "apply": "1", "note": "bad row"},
    )

    dead.refresh_from_db()
    assert (dead.status, dead.note) == ("discarded", "bad row")


def test_metrics_count_retried_attempts_apart_from_the_final_failure(
    broker, worker, key, settings
) -> None:
    settings.DEAD_LETTER_AUTO_REQUEUE_SECONDS = 0
    labels = "queue=track|type=TestFlaky"
    before = processed_counts(labels)
    # Given an event that fails every attempt, with one retry
    emit("TestFlaky", {"key": key, "fail_times": 99}, options={**FAST, "max_retries": 1})
    # When its budget is spent
    drain(broker, worker)
    # Then the metrics show one retried attempt and one failure, not two failures
    after = processed_counts(labels)
    assert after["retried"] - before["retried"] == 1
    assert after["failed"] - before["failed"] == 1


def processed_counts(labels: str) -> dict[str, int]:
    totals = {k.decode(): int(v) for k, v in redis_client().hgetall(TOTALS_KEY).items()}
    return {
        outcome: totals.get(f"events_processed|outcome={outcome}|{labels}", 0)
        for outcome in ("retried", "failed")
    }
