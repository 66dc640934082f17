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
    fallback_reason = models.CharField(
        max_length=32,
        blank=True,
        default="",
        db_default="",
        help_text="Why the step template wrote it: providers_failed, deadline, no_providers, "
        "template_step (empty when an AI provider did).",
    )
    hold_reason = models.CharField(
        max_length=500,
        blank=True,
        default="",
        db_default="",
        help_text="Why it waited for review (campaign rule, or details not in the step "
        "template or the prospect's record).",
    )
    error = models.TextField(blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.CharField(max_length=150, blank=True, help_text="Who approved/rejected")
    reviewed_at = models.DateTimeField(null=True, blank=True)
    review_note = models.CharField(max_length=500, blank=True, help_text="Why it was rejected")
    # An uncertain send settled by a person (or by the Sent-folder lookup), kept for audit.
    resolved_by = models.CharField(
        max_length=150, blank=True, default="", db_default="", help_text="Who settled it"
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
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


class InboundEmail(models.Model):
    """One received message, kept raw so it can be reprocessed without the provider."""

    class Source(models.TextChoices):
        IMAP = "imap"
        WEBHOOK = "webhook"
        FILE = "file"

    class Status(models.TextChoices):
        PENDING = "pending"
        PROCESSED = "processed"
        IGNORED = "ignored", "ignored (our own message)"
        FAILED = "failed"

    class Label(models.TextChoices):
        BOUNCE_HARD = "bounce_hard"
        BOUNCE_SOFT = "bounce_soft"
        COMPLAINT = "complaint", "spam complaint"
        AUTO_REPLY = "auto_reply"
        UNSUBSCRIBE = "unsubscribe"
        INTERESTED = "interested"
        MEETING = "meeting"
        NOT_INTERESTED = "not_interested"
        QUESTION = "question"
        OTHER = "other"

    class Method(models.TextChoices):
        RULES = "rules"
        AI = "ai"
        MANUAL = "manual"

    raw = models.BinaryField(help_text="The message exactly as received (RFC 822).")
    source = models.CharField(max_length=8, choices=Source.choices)
    provider_message_id = models.CharField(
        max_length=255, null=True, blank=True, unique=True, help_text="ESP id or IMAP uid key."
    )
    message_id = models.CharField(max_length=255, blank=True, help_text="Its Message-ID header.")
    inbox = models.ForeignKey(
        Inbox, on_delete=models.SET_NULL, related_name="inbound", null=True, blank=True
    )
    folder = models.CharField(max_length=128, blank=True)
    from_email = models.CharField(max_length=254, blank=True)
    subject = models.CharField(max_length=998, blank=True)
    received_at = models.DateTimeField(auto_now_add=True, db_index=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    error = models.TextField(blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    email_message = models.OneToOneField(
        EmailMessage,
        on_delete=models.SET_NULL,
        related_name="inbound_email",
        null=True,
        blank=True,
        help_text="The inbound message row created for the thread.",
    )
    replied_to = models.ForeignKey(
        EmailMessage,
        on_delete=models.SET_NULL,
        related_name="replies",
        null=True,
        blank=True,
        help_text="Our outbound message this answers.",
    )
    prospect = models.ForeignKey(
        Prospect, on_delete=models.SET_NULL, related_name="inbound", null=True, blank=True
    )
    match_method = models.CharField(max_length=16, blank=True, help_text="header, sender or none")
    label = models.CharField(max_length=16, choices=Label.choices, blank=True, db_index=True)
    confidence = models.FloatField(null=True, blank=True)
    method = models.CharField(max_length=8, choices=Method.choices, blank=True)
    details = models.JSONField(default=dict, blank=True, help_text="Why: rules hit, bounce code…")
    label_corrected_by = models.CharField(max_length=128, blank=True)
    label_corrected_at = models.DateTimeField(null=True, blank=True)
    needs_human = models.BooleanField(default=False)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["message_id"],
                condition=~models.Q(message_id=""),
                name="inbound_message_id_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "received_at"], name="inbound_status_idx"),
            models.Index(
                fields=["-received_at"],
                condition=models.Q(needs_human=True),
                name="inbound_needs_human_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.from_email}: {self.subject[:60]}"


class ImapCursor(models.Model):
    """The last UID fetched per inbox and folder; UIDVALIDITY changes restart the folder."""

    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="imap_cursors")
    folder = models.CharField(max_length=128)
    uidvalidity = models.BigIntegerField(default=0)
    last_uid = models.BigIntegerField(default=0)
    polled_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["inbox", "folder"], name="imap_cursor_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.inbox} {self.folder} uid>{self.last_uid}"


class AICall(models.Model):
    """One request to a writing provider (or the template fallback), for the dashboard."""

    provider = models.CharField(max_length=32, help_text="grok:1, grok:2, claude, template…")
    model = models.CharField(max_length=100, blank=True)
    purpose = models.CharField(max_length=32, default="compose")
    reference = models.CharField(max_length=64, blank=True, help_text="e.g. enrollment:step")
    success = models.BooleanField()
    error_class = models.CharField(max_length=32, blank=True)
    error = models.CharField(max_length=500, blank=True)
    latency_ms = models.PositiveIntegerField(default=0)
    prompt_tokens = models.PositiveIntegerField(null=True, blank=True)
    completion_tokens = models.PositiveIntegerField(null=True, blank=True)
    trace_id = models.CharField(max_length=64, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = "AI call"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["provider", "-created_at"], name="aicall_provider_idx"),
            models.Index(fields=["-created_at"], name="aicall_created_idx"),
            models.Index(fields=["trace_id"], name="aicall_trace_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.provider} {'ok' if self.success else self.error_class}"


class PendingApproval(EmailMessage):
    """Composed messages waiting for a person: the admin's approval queue."""

    class Meta:
        proxy = True
        verbose_name = "message awaiting approval"
        verbose_name_plural = "approval queue"


# Deliverability's models live in their own module; importing them here registers them.
from outreach.deliverability_models import (  # noqa: E402, F401
    CampaignOptimisation,
    DeliverabilityLog,
    InboxDeliverability,
    PlacementTest,
    SeedMailbox,
    SendTimeAssignment,
    VariantPromotion,
)
