"""The event log (every emitted and processed event) and dead letters."""

from __future__ import annotations

from django.db import models
from django.db.models.fields.json import KeyTransform
from django.utils import timezone

from jengu.failures import CLASSIFICATIONS


class Event(models.Model):
    """One row per event id, updated as the event moves through its states.

    `recorded` rows are notices that were never queued (e.g. `breaker.opened`).
    """

    class Status(models.TextChoices):
        EMITTED = "emitted"
        STARTED = "started"
        SUCCEEDED = "succeeded"
        RETRIED = "retried", "failed, will retry"
        DEAD = "dead", "failed, dead letter"
        FAILED = "failed", "failed, no dead letter"
        RECORDED = "recorded"

    event_id = models.UUIDField(unique=True)
    trace_id = models.UUIDField(db_index=True)
    parent_id = models.UUIDField(null=True, blank=True)
    type = models.CharField(max_length=100)
    source = models.CharField(max_length=100, blank=True)
    queue = models.CharField(max_length=64, blank=True)
    actor = models.CharField(max_length=200, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices)
    payload = models.JSONField(default=dict, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    duration_ms = models.FloatField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        # The dashboard's System page and its breaker resets are for operators.
        permissions = [
            ("view_system", "Can see the System page (queues, workers, breakers)"),
            ("reset_breaker", "Can reset circuit breakers"),
        ]
        indexes = [
            models.Index(fields=["type", "created_at"]),
            # The prospect timeline looks events up by the prospect in their payload.
            models.Index(
                KeyTransform("prospect_id", "payload"), "created_at", name="event_prospect_idx"
            ),
            # The events still waiting on a queue, for a down region's handover: a few
            # rows among millions (most events have finished).
            models.Index(
                fields=["queue", "created_at"],
                name="event_waiting_queue_idx",
                condition=models.Q(status__in=["emitted", "started", "retried"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id} ({self.status})"


class DeadLetter(models.Model):
    """An event that failed for good: everything needed to judge and requeue it."""

    class Status(models.TextChoices):
        PENDING = "pending"
        REQUEUED = "requeued"
        DISCARDED = "discarded"
        RESOLVED = "resolved", "resolved (requeue succeeded)"

    class Classification(models.TextChoices):
        TRANSIENT = CLASSIFICATIONS[0]
        INVALID_DATA = CLASSIFICATIONS[1]
        PERMANENT = CLASSIFICATIONS[2]

    event_id = models.UUIDField(unique=True)
    trace_id = models.UUIDField(db_index=True)
    event_type = models.CharField(max_length=100)
    queue = models.CharField(max_length=64)
    actor = models.CharField(max_length=200)
    envelope = models.JSONField()
    args = models.JSONField(default=dict, help_text="The event payload (actor keyword arguments).")
    exception_type = models.CharField(max_length=200)
    exception_message = models.TextField(blank=True)
    traceback = models.TextField(blank=True)
    classification = models.CharField(max_length=12, choices=Classification.choices)
    attempts = models.PositiveIntegerField()
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField(db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    note = models.TextField(blank=True)
    requeue_count = models.PositiveIntegerField(default=0)
    auto_requeued = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-last_failed_at"]
        indexes = [
            models.Index(fields=["status", "last_failed_at"]),
            models.Index(fields=["queue", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.event_type} {self.event_id} ({self.status})"
