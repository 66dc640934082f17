"""Reads for the dashboard, the admin and the API: inbox deliverability, placement rates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from django.db.models import Count
from django.db.models.functions import TruncWeek
from django.utils import timezone

from crm.models import Inbox
from outreach.deliverability_models import InboxDeliverability, PlacementTest
from outreach.sending.presets import inbox_preset, inbox_settings, preset_daily_cap, preset_min_gap

from .health import grade

SETTLED = (PlacementTest.Status.INBOX, PlacementTest.Status.SPAM, PlacementTest.Status.MISSING)


@dataclass
class InboxSummary:
    inbox: Inbox
    row: InboxDeliverability | None
    daily_cap: int
    min_gap_seconds: int

    @property
    def grade(self) -> str:
        return grade(self.row.health_score if self.row else None)

    @property
    def fixes(self) -> list[dict]:
        findings = (self.row.auth_report or {}).get("findings", []) if self.row else []
        return [f for f in findings if f["status"] != "pass"]

    def as_dict(self) -> dict:
        row = self.row
        return {
            "inbox_id": self.inbox.pk,
            "email": self.inbox.email,
            "provider_preset": inbox_preset(self.inbox).name.value,
            "effective_daily_cap": self.daily_cap,
            "effective_min_gap_seconds": self.min_gap_seconds,
            "dkim_selector": row.dkim_selector if row else "",
            "dkim_sign": bool(row and row.dkim_sign),
            "dkim_key_set": bool(row and row.dkim_private_key),
            "auth_status": row.auth_status if row else "unknown",
            "auth_checked_at": row.auth_checked_at if row else None,
            "auth_report": (row.auth_report if row else {}) or {},
            "first_touch_blocked": bool(row and row.first_touch_blocked),
            "auth_override": bool(row and row.auth_override),
            "auth_override_by": row.auth_override_by if row else "",
            "auth_override_note": row.auth_override_note if row else "",
            "paused_reason": self.inbox.paused_reason,
            "sending_paused": self.inbox.sending_paused,
            "health_score": row.health_score if row else None,
            "health_grade": self.grade,
            "health_report": (row.health_report if row else {}) or {},
            "health_evaluated_at": row.health_evaluated_at if row else None,
            "fixes": [f"{f['check']}: {f['fix']}" for f in self.fixes if f["fix"]],
        }


def inbox_summary(inbox: Inbox) -> InboxSummary:
    row = InboxDeliverability.objects.filter(inbox=inbox).first()
    Inbox.deliverability.related.set_cached_value(inbox, row)
    return InboxSummary(inbox, row, preset_daily_cap(inbox=inbox), preset_min_gap(inbox=inbox))


def inbox_summaries() -> list[InboxSummary]:
    inboxes = Inbox.objects.select_related("deliverability").order_by("email")
    return [
        InboxSummary(
            inbox, inbox_settings(inbox), preset_daily_cap(inbox=inbox), preset_min_gap(inbox=inbox)
        )
        for inbox in inboxes
    ]


@dataclass
class PlacementRow:
    inbox_id: int
    inbox_email: str
    provider: str
    inbox: int = 0
    spam: int = 0
    missing: int = 0

    @property
    def tests(self) -> int:
        return self.inbox + self.spam + self.missing

    @property
    def inbox_rate(self) -> float | None:
        return self.inbox / self.tests if self.tests else None

    def as_dict(self) -> dict:
        return {
            "inbox_id": self.inbox_id,
            "inbox_email": self.inbox_email,
            "provider": self.provider,
            "inbox": self.inbox,
            "spam": self.spam,
            "missing": self.missing,
            "tests": self.tests,
            "inbox_rate": self.inbox_rate,
        }


def _settled(days: int):
    since = timezone.now() - timedelta(days=days)
    return PlacementTest.objects.filter(sent_at__gte=since, status__in=SETTLED)


def placement_by_inbox_and_provider(*, days: int = 28) -> list[PlacementRow]:
    """Where the last `days` days' test e-mails landed, per inbox and seed provider."""
    rows = (
        _settled(days)
        .values("inbox_id", "inbox__email", "seed__provider", "status")
        .annotate(n=Count("pk"))
        .order_by("inbox__email", "seed__provider")
    )
    table: dict[tuple, PlacementRow] = {}
    for row in rows:
        key = (row["inbox_id"], row["seed__provider"])
        entry = table.setdefault(key, PlacementRow(key[0], row["inbox__email"], key[1]))
        setattr(entry, row["status"], row["n"])
    return list(table.values())


def placement_weekly(*, days: int = 84) -> list[dict]:
    """Inbox-placement rate per inbox, seed provider and week (oldest first)."""
    rows = (
        _settled(days)
        .annotate(week=TruncWeek("sent_at"))
        .values("week", "inbox_id", "inbox__email", "seed__provider", "status")
        .annotate(n=Count("pk"))
        .order_by("week")
    )
    series: dict[tuple, dict] = {}
    for row in rows:
        week: date = row["week"].date()
        key = (week, row["inbox_id"], row["seed__provider"])
        entry = series.setdefault(
            key,
            {
                "week": week,
                "inbox_id": row["inbox_id"],
                "inbox_email": row["inbox__email"],
                "provider": row["seed__provider"],
                "tests": 0,
                "in_inbox": 0,
            },
        )
        entry["tests"] += row["n"]
        entry["in_inbox"] += row["n"] if row["status"] == PlacementTest.Status.INBOX else 0
    for entry in series.values():
        entry["inbox_rate"] = entry["in_inbox"] / entry["tests"]
    return list(series.values())
