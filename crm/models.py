"""CRM records: prospects and their stage history, inboxes, campaigns, enrollments."""

from __future__ import annotations

from datetime import date

from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex, OpClass
from django.db import models
from django.db.models import Lookup
from django.db.models.functions import Lower, Upper

from jengu.fields import EncryptedTextField
from jengu.regions import region_validate


class Stage(models.TextChoices):
    NEW = "new"
    ENRICHING = "enriching"
    ENRICHED = "enriched"
    READY = "ready"
    CONTACTED = "contacted"
    REPLIED = "replied"
    MEETING = "meeting"
    WON = "won"
    LOST = "lost"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    INVALID = "invalid"


class EmailStatus(models.TextChoices):
    UNKNOWN = "unknown"
    VALID = "valid"
    RISKY = "risky"
    CATCH_ALL = "catch_all"
    INVALID = "invalid"


class AnyOf(Lookup):
    """`lhs = ANY(%s)`: membership in a list passed as one array parameter."""

    prepare_rhs = False

    def as_sql(self, compiler, connection) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        return f"{lhs} = ANY(%s)", [*lhs_params, list(self.rhs)]


class ProspectQuerySet(models.QuerySet):
    def with_emails(self, emails: list[str]) -> ProspectQuerySet:
        """Prospects whose e-mail is one of `emails`, case-insensitively.

        Written to match the partial unique index on LOWER(email), so it stays an
        index lookup on big tables (a plain `email__in` would scan). The list is
        one array parameter (`= ANY(%s)`), not one placeholder per address: an
        import asks for 1,000 at a time, and 1,000 placeholders double the CPU
        of building and sending the query (3.4 vs 1.6 ms).
        """
        wanted = [email.lower() for email in emails if email]
        if not wanted:
            return self.none()
        return self.exclude(email="").filter(AnyOf(Lower("email"), wanted))

    def searched(self, term: str) -> ProspectQuerySet:
        """An e-mail address matches exactly, anything else is part of the business name.

        Both are index lookups (LOWER(email), trigram on the name); a substring
        search over several columns would scan 100k rows on every keystroke.
        """
        if "@" in term:
            return self.with_emails([term])
        return self.filter(business_name__icontains=term)


class Prospect(models.Model):
    business_name = models.CharField(max_length=255)
    contact_name = models.CharField(max_length=255, blank=True)
    email = models.EmailField(max_length=254, blank=True, help_text="Stored lower-case.")
    website = models.URLField(max_length=500, blank=True)
    domain = models.CharField(max_length=255, blank=True)
    phone = models.CharField(max_length=64, blank=True)
    city = models.CharField(max_length=128, blank=True)
    country = models.CharField(max_length=2, blank=True, help_text="ISO 3166 alpha-2")
    timezone = models.CharField(max_length=64, blank=True, help_text="IANA, e.g. Europe/Paris")
    industry = models.CharField(max_length=128, blank=True)
    source = models.CharField(max_length=64, blank=True)
    # A JSON list rather than an ArrayField: bulk inserts of JSON columns take
    # PostgreSQL's fast UNNEST path in Django, arrays do not (3x on imports).
    tags = models.JSONField(default=list, blank=True)
    notes = models.TextField(blank=True)
    stage = models.CharField(max_length=16, choices=Stage.choices, default=Stage.NEW)
    email_status = models.CharField(
        max_length=16, choices=EmailStatus.choices, default=EmailStatus.UNKNOWN
    )
    enrichment = models.JSONField(
        default=dict, blank=True, help_text="What enrichment found, with sources."
    )
    score = models.IntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ProspectQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                condition=~models.Q(email=""),
                name="prospect_email_ci_unique",
                violation_error_message="A prospect with this e-mail already exists.",
            ),
        ]
        indexes = [
            models.Index(fields=["stage", "-id"], name="prospect_stage_idx"),
            models.Index(fields=["email_status"], name="prospect_email_status_idx"),
            models.Index(fields=["country"], name="prospect_country_idx"),
            models.Index(fields=["updated_at"], name="prospect_updated_idx"),
            models.Index(fields=["domain"], name="prospect_domain_idx"),
            models.Index(Lower("business_name"), Lower("city"), name="prospect_name_city_idx"),
            GinIndex(fields=["tags"], name="prospect_tags_gin"),
            # Substring search (icontains compiles to UPPER(...) LIKE) on 100k+ rows.
            GinIndex(
                OpClass(Upper("business_name"), name="gin_trgm_ops"), name="prospect_name_trgm"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.business_name} <{self.email}>" if self.email else self.business_name


class StageChange(models.Model):
    """One recorded stage transition: who or what moved the prospect, and why."""

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.CharField(max_length=16, choices=Stage.choices)
    to_stage = models.CharField(max_length=16, choices=Stage.choices)
    changed_by = models.CharField(max_length=128, help_text="user:<name>, import, actor:<name>…")
    reason = models.CharField(max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.from_stage} → {self.to_stage}"


def default_warmup_ramp() -> list[int]:
    return [5, 5, 8, 8, 10, 12, 15, 15, 20, 20, 25, 25, 30, 35, 40, 45, 50]


class Inbox(models.Model):
    class Transport(models.TextChoices):
        SMTP = "smtp"
        RESEND = "resend"

    class Security(models.TextChoices):
        NONE = "none"
        STARTTLS = "starttls"
        TLS = "tls"

    email = models.EmailField(unique=True)
    display_name = models.CharField(max_length=128, blank=True)
    transport = models.CharField(max_length=8, choices=Transport.choices, default=Transport.SMTP)
    smtp_host = models.CharField(max_length=255, blank=True)
    smtp_port = models.PositiveIntegerField(default=587)
    smtp_username = models.CharField(max_length=255, blank=True)
    smtp_password = EncryptedTextField(blank=True)
    smtp_security = models.CharField(
        max_length=8, choices=Security.choices, default=Security.STARTTLS
    )
    resend_api_key = EncryptedTextField(blank=True)
    imap_host = models.CharField(max_length=255, blank=True)
    imap_port = models.PositiveIntegerField(default=993)
    imap_username = models.CharField(max_length=255, blank=True)
    imap_password = EncryptedTextField(blank=True)
    imap_security = models.CharField(max_length=8, choices=Security.choices, default=Security.TLS)
    imap_folder = models.CharField(max_length=128, default="INBOX")
    imap_sent_folder = models.CharField(max_length=128, blank=True, default="Sent")
    daily_limit = models.PositiveIntegerField(default=50, help_text="Hard daily maximum.")
    warmup_enabled = models.BooleanField(default=True)
    warmup_start = models.DateField(default=date.today)
    warmup_ramp = models.JSONField(
        default=default_warmup_ramp,
        blank=True,
        help_text="Daily cap for day 1, 2, 3… of warm-up; after the list ends, the hard maximum.",
    )
    min_gap_seconds = models.PositiveIntegerField(
        default=120, help_text="Minimum pause between two sends from this inbox."
    )
    active = models.BooleanField(default=True)
    region = models.CharField(
        max_length=32,
        blank=True,
        default="",
        db_default="",
        validators=[region_validate],
        help_text="Home region (one of JENGU_REGIONS): its workers send through this inbox, "
        "to that region's prospects. Blank: the default region.",
    )
    sending_paused = models.BooleanField(
        default=False,
        help_text="Set by bounce protection: no first touches until an operator resumes.",
    )
    paused_reason = models.CharField(
        max_length=500,
        blank=True,
        default="",
        db_default="",
        help_text="Set when receivers block this inbox or its authentication fails: no e-mail "
        "at all (follow-ups too) goes out until an operator clears it.",
    )
    bounce_count = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name_plural = "inboxes"
        ordering = ["email"]

    def __str__(self) -> str:
        return self.email


class Campaign(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft"
        ACTIVE = "active"
        PAUSED = "paused"
        FINISHED = "finished"

    name = models.CharField(max_length=200, unique=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.DRAFT)
    strategy = models.CharField(
        max_length=64, default="cold_direct", help_text="AI prompt strategy for first touches."
    )
    inboxes = models.ManyToManyField(Inbox, blank=True, related_name="campaigns")
    window_start_hour = models.PositiveSmallIntegerField(default=9)
    window_end_hour = models.PositiveSmallIntegerField(default=17)
    window_days = ArrayField(
        models.PositiveSmallIntegerField(), default=list, blank=True, help_text="0=Mon … 6=Sun"
    )
    skip_holidays = models.BooleanField(default=True)
    require_approval = models.BooleanField(
        default=False, help_text="AI-written first touches wait for a person's approval."
    )
    approve_follow_ups = models.BooleanField(
        default=False, help_text="Follow-up steps also wait for approval."
    )
    first_steps_paused = models.BooleanField(
        default=False,
        help_text="Set by bounce protection: no new first touches until an operator resumes.",
    )
    sender_postal_address = models.CharField(
        max_length=300, blank=True, help_text="Shown in every e-mail's footer (CAN-SPAM)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(window_start_hour__lte=24, window_end_hour__lte=24),
                name="campaign_window_hours_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CampaignStep(models.Model):
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="steps")
    order = models.PositiveSmallIntegerField()
    delay_days = models.PositiveSmallIntegerField(
        default=0, help_text="Days after the previous step (first step: after enrollment)."
    )
    subject_template = models.CharField(max_length=500)
    body_template = models.TextField()
    strategy = models.CharField(
        max_length=64, blank=True, help_text="AI strategy; blank uses the campaign's."
    )
    variants = models.JSONField(
        default=list,
        blank=True,
        help_text='A/B variants: [{"name": "B", "subject_template": …, "body_template": …}]',
    )

    class Meta:
        ordering = ["campaign", "order"]
        constraints = [
            models.UniqueConstraint(
                fields=["campaign", "order"], name="campaign_step_order_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.campaign} · step {self.order}"


class Enrollment(models.Model):
    class Status(models.TextChoices):
        ACTIVE = "active"
        PAUSED = "paused"
        REPLIED = "replied"
        FINISHED = "finished"
        STOPPED = "stopped"

    prospect = models.ForeignKey(Prospect, on_delete=models.CASCADE, related_name="enrollments")
    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="enrollments")
    current_step = models.PositiveSmallIntegerField(
        default=1, help_text="Order of the next step to send."
    )
    next_send_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    variant = models.CharField(max_length=32, blank=True)
    stop_reason = models.CharField(max_length=255, blank=True)
    last_sent_at = models.DateTimeField(null=True, blank=True)
    paused_until = models.DateTimeField(
        null=True, blank=True, help_text="Out-of-office: resume after this time."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["prospect", "campaign"], name="enrollment_prospect_campaign_unique"
            ),
        ]
        indexes = [
            models.Index(fields=["status", "next_send_at"], name="enrollment_due_idx"),
            models.Index(fields=["campaign", "status"], name="enrollment_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.prospect} in {self.campaign}"


class DailyStat(models.Model):
    """One day's rolled-up count of one metric for one campaign/step/variant/inbox.

    Written only by `outreach.dashboard.rollups.daily_stats_rollup` (recomputed from the message
    tables, so it can be rebuilt at any time); read by the dashboard so page views
    never scan the message tables. Plain ids, not foreign keys: history outlives
    a deleted inbox or campaign.
    """

    day = models.DateField()
    metric = models.CharField(max_length=32)
    campaign_id = models.BigIntegerField(null=True, blank=True)
    step = models.PositiveSmallIntegerField(null=True, blank=True)
    variant = models.CharField(max_length=32, blank=True)
    inbox_id = models.BigIntegerField(null=True, blank=True)
    value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["day", "metric", "campaign_id", "step", "variant", "inbox_id"],
                nulls_distinct=False,
                name="daily_stat_unique",
            ),
        ]
        indexes = [
            models.Index(fields=["campaign_id", "metric"], name="daily_stat_campaign_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} {self.metric}={self.value}"
