"""Deliverability records: per-inbox authentication and health, seed-mailbox placement
tests, send-time learning and A/B promotions. Registered with the outreach app
(imported by outreach/models.py).

They sit beside the app's models, not in the deliverability package, because the
sender, the replies pipeline and compose read them too, and the package itself
imports those: the records must sit below all of them.
"""

from __future__ import annotations

from django.db import models

from crm.models import Campaign, CampaignStep, Enrollment, Inbox
from jengu.fields import EncryptedTextField


class ProviderPreset(models.TextChoices):
    GOOGLE_WORKSPACE = "google_workspace", "Google Workspace"
    MICROSOFT_365 = "microsoft_365", "Microsoft 365"
    GENERIC_SMTP = "generic_smtp", "Generic SMTP"


class AuthStatus(models.TextChoices):
    UNKNOWN = "unknown", "not checked yet"
    PASS = "pass"  # noqa: S105 - a check result, not a password
    WARN = "warn"
    FAIL = "fail"
    ERROR = "error", "check failed (DNS)"


class InboxDeliverability(models.Model):
    """One inbox's provider preset, DKIM settings, authentication result and health.

    `first_touch_blocked` is derived (authentication fails and nobody overrode it);
    the sender reads it in the statement that picks an inbox, so the gate costs no query.
    """

    inbox = models.OneToOneField(
        Inbox, on_delete=models.CASCADE, primary_key=True, related_name="deliverability"
    )
    provider_preset = models.CharField(
        max_length=20, choices=ProviderPreset.choices, default=ProviderPreset.GENERIC_SMTP
    )
    dkim_selector = models.CharField(
        max_length=63, blank=True, help_text="Blank: the preset's usual selector."
    )
    dkim_sign = models.BooleanField(
        default=False, help_text="Sign outgoing e-mail here (for relays that do not sign)."
    )
    dkim_private_key = EncryptedTextField(blank=True, help_text="PEM; write-only.")
    auth_status = models.CharField(
        max_length=8, choices=AuthStatus.choices, default=AuthStatus.UNKNOWN
    )
    auth_report = models.JSONField(default=dict, blank=True)
    auth_checked_at = models.DateTimeField(null=True, blank=True)
    first_touch_blocked = models.BooleanField(
        default=False, help_text="Neither SPF nor DKIM aligns: no first touches."
    )
    auth_override = models.BooleanField(
        default=False, help_text="An operator lets first touches go despite failing checks."
    )
    auth_override_by = models.CharField(max_length=150, blank=True)
    auth_override_at = models.DateTimeField(null=True, blank=True)
    auth_override_note = models.CharField(max_length=500, blank=True)
    health_score = models.PositiveSmallIntegerField(null=True, blank=True)
    health_report = models.JSONField(default=dict, blank=True)
    health_evaluated_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "inbox deliverability"
        verbose_name_plural = "inbox deliverability"

    def __str__(self) -> str:
        return f"{self.inbox_id}: {self.auth_status}"


class DeliverabilityLog(models.Model):
    """What changed an inbox's or a campaign's sending, by whom (person or rule)."""

    class Kind(models.TextChoices):
        AUTH_CHECKED = "auth_checked"
        OVERRIDE_SET = "override_set"
        OVERRIDE_CLEARED = "override_cleared"
        AUTO_PAUSE = "auto_pause"
        SETTINGS_CHANGED = "settings_changed"
        VARIANT_PROMOTED = "variant_promoted"
        VARIANT_REVERTED = "variant_reverted"

    kind = models.CharField(max_length=24, choices=Kind.choices)
    inbox = models.ForeignKey(
        Inbox, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    campaign = models.ForeignKey(
        Campaign, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor = models.CharField(max_length=150, help_text="user:<name>, api:<key>, rule:<name>")
    detail = models.CharField(max_length=1000)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.kind}: {self.detail[:60]}"


class SeedMailbox(models.Model):
    """A mailbox of ours at a big provider that placement tests send to and read over IMAP."""

    class Provider(models.TextChoices):
        GMAIL = "gmail"
        OUTLOOK = "outlook"
        YAHOO = "yahoo"
        OTHER = "other"

    email = models.EmailField(unique=True)
    provider = models.CharField(max_length=8, choices=Provider.choices, default=Provider.OTHER)
    imap_host = models.CharField(max_length=255)
    imap_port = models.PositiveIntegerField(default=993)
    imap_security = models.CharField(
        max_length=8, choices=Inbox.Security.choices, default=Inbox.Security.TLS
    )
    imap_username = models.CharField(max_length=255)
    imap_password = EncryptedTextField(blank=True)
    inbox_folders = models.JSONField(
        default=list, blank=True, help_text='Folders that count as the inbox; [] = ["INBOX"].'
    )
    spam_folders = models.JSONField(
        default=list, blank=True, help_text="Folders that count as spam; [] = the usual names."
    )
    active = models.BooleanField(default=True)
    last_error = models.CharField(max_length=500, blank=True)
    last_checked_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class PlacementTest(models.Model):
    """One test e-mail from an inbox to a seed mailbox, and where it landed."""

    class Status(models.TextChoices):
        SENT = "sent", "sent, not found yet"
        INBOX = "inbox"
        SPAM = "spam"
        MISSING = "missing"
        FAILED = "failed", "could not be sent"

    inbox = models.ForeignKey(Inbox, on_delete=models.CASCADE, related_name="placement_tests")
    seed = models.ForeignKey(SeedMailbox, on_delete=models.CASCADE, related_name="tests")
    token = models.CharField(max_length=40, unique=True)
    message_id = models.CharField(max_length=255, blank=True)
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.SENT)
    folder = models.CharField(max_length=128, blank=True)
    error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(auto_now_add=True)
    checked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["inbox", "-sent_at"], name="placement_inbox_idx"),
            models.Index(fields=["status", "sent_at"], name="placement_status_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.inbox_id} → {self.seed_id}: {self.status}"


class CampaignOptimisation(models.Model):
    """A campaign's send-time optimisation and A/B settings (defaults when no row)."""

    campaign = models.OneToOneField(
        Campaign, on_delete=models.CASCADE, primary_key=True, related_name="optimisation"
    )
    send_time_enabled = models.BooleanField(
        default=False, help_text="Schedule first touches into learned time slots."
    )
    holdout_share = models.FloatField(
        default=0.10, help_text="Share of first touches kept on the window's plain schedule."
    )
    by_industry = models.BooleanField(
        default=False, help_text="Learn slots per prospect industry too."
    )
    ab_auto_promote = models.BooleanField(
        default=False, help_text="Promote a step's variant once it is the clear winner."
    )

    def __str__(self) -> str:
        return f"optimisation of campaign {self.campaign_id}"


class SendTimeAssignment(models.Model):
    """One first touch's send-time decision and, 72 h after it went, its outcome."""

    enrollment = models.OneToOneField(
        Enrollment, on_delete=models.CASCADE, primary_key=True, related_name="send_time"
    )
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="+")
    holdout = models.BooleanField()
    zone = models.CharField(max_length=64)
    industry = models.CharField(max_length=128, blank=True)
    planned_slot = models.CharField(max_length=24, blank=True, help_text="weekday class:slot")
    planned_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    sent_slot = models.CharField(max_length=24, blank=True, help_text="where it really went")
    replied = models.BooleanField(null=True, blank=True, help_text="A human reply within 72 h.")
    settled_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["campaign", "holdout"], name="sendtime_campaign_idx"),
            models.Index(
                fields=["created_at"],
                condition=models.Q(settled_at__isnull=True),
                name="sendtime_unsettled_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"enrollment {self.enrollment_id} at {self.planned_slot or 'plain'}"


class VariantPromotion(models.Model):
    """A step variant promoted to winner: new enrollments get it until reverted."""

    step = models.ForeignKey(CampaignStep, on_delete=models.CASCADE, related_name="promotions")
    variant = models.CharField(max_length=32)
    probability_best = models.FloatField()
    automatic = models.BooleanField(default=False)
    promoted_by = models.CharField(max_length=150)
    promoted_at = models.DateTimeField(auto_now_add=True)
    reverted_by = models.CharField(max_length=150, blank=True)
    reverted_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["step"],
                condition=models.Q(reverted_at__isnull=True),
                name="one_active_promotion_per_step",
            ),
        ]

    def __str__(self) -> str:
        return f"step {self.step_id}: {self.variant}"
