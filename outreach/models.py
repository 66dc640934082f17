"""Messages in and out, and the suppression list."""

from __future__ import annotations

from django.db import models

from crm.models import Campaign, Enrollment, Inbox, Prospect


class EmailMessage(models.Model):
    class Direction(models.TextChoices):
        OUTBOUND = "outbound"
        INBOUND = "inbound"

    class Status(models.TextChoices):
        PENDING_APPROVAL = "pending_approval"
        QUEUED = "queued"
        SENDING = "sending"
        SENT = "sent"
        UNCERTAIN = "uncertain"
        FAILED = "failed"
        BOUNCED = "bounced"
        REJECTED = "rejected"
        RECEIVED = "received"

    direction = models.CharField(max_length=8, choices=Direction.choices)
    prospect = models.ForeignKey(
        Prospect, on_delete=models.CASCADE, related_name="messages", null=True, blank=True
    )
    enrollment = models.ForeignKey(
        Enrollment, on_delete=models.SET_NULL, related_name="messages", null=True, blank=True
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, related_name="messages", null=True, blank=True
    )
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    variant = models.CharField(max_length=32, blank=True)
    inbox = models.ForeignKey(
        Inbox, on_delete=models.SET_NULL, related_name="messages", null=True, blank=True
    )
    from_email = models.CharField(max_length=254, blank=True)
    to_email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    body = models.TextField(blank=True)
    message_id = models.CharField(max_length=255, blank=True, help_text="RFC 5322 Message-ID")
    in_reply_to = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=16, choices=Status.choices)
    idempotency_key = models.CharField(
        max_length=64, null=True, blank=True, unique=True, help_text="enrollment:step"
    )
    provider = models.CharField(max_length=32, blank=True, help_text="Who wrote it (AI/template)")
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~models.Q(message_id=""),
                name="email_message_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["prospect", "-created_at"], name="message_prospect_idx"),
            models.Index(fields=["campaign", "status"], name="message_campaign_idx"),
            models.Index(fields=["status", "updated_at"], name="message_status_idx"),
            models.Index(fields=["inbox", "sent_at"], name="message_inbox_sent_idx"),
            models.Index(fields=["direction", "-created_at"], name="message_direction_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.direction} {self.subject[:60]}"

    @staticmethod
    def idempotency_key_for(enrollment_id: int, step: int) -> str:
        return f"{enrollment_id}:{step}"


class Suppression(models.Model):
    """An address or a whole domain that must never be e-mailed."""

    class Kind(models.TextChoices):
        EMAIL = "email"
        DOMAIN = "domain"

    value = models.CharField(max_length=254, unique=True, help_text="Lower-case.")
    kind = models.CharField(max_length=8, choices=Kind.choices, default=Kind.EMAIL)
    reason = models.CharField(max_length=255, blank=True)
    source = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return self.value
