"""An inbox's health score (0–100) and the auto-pause rules evaluated with it.

The score starts at 100 and loses points for each signal receivers judge a sender by:

| signal | window | points lost |
|---|---|---|
| hard-bounce rate | 28 days (once BOUNCE_MIN_SENDS went) | 15 per 1 %, at most 30 |
| spam-complaint rate | 30 days (same minimum) | 30 per 0.1 %, at most 30 |
| authentication | last check | fail 40, warn 10, not checked / DNS error 5 |
| seed placement | 28 days of tests | 30 × the share not in the inbox |

Grades: 80 and up "good", 50–79 "at risk", under 50 "poor". The pauses are the
sender-protection rules (outreach/sending/bounces.py), run here on a schedule too:
bounces over BOUNCE_LONG_RATE_THRESHOLD of 28 days or a 24-hour burst, complaints
over COMPLAINT_RATE_THRESHOLD; refusals that blame our authentication pause at
once when they happen (rules.py).
"""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db.models import Count
from django.utils import timezone

from crm.models import Inbox
from outreach.deliverability_models import (
    AuthStatus,
    DeliverabilityLog,
    InboxDeliverability,
    PlacementTest,
)
from outreach.sending.bounces import (
    bounce_protection_check,
    bounce_rate,
    complaint_protection_check,
    complaint_rate,
)
from outreach.sending.deliverability_log import deliverability_log

from .auth import inbox_deliverability_get

PLACEMENT_WINDOW_DAYS = 28
_AUTH_PENALTY = {
    AuthStatus.PASS: 0,
    AuthStatus.WARN: 10,
    AuthStatus.FAIL: 40,
    AuthStatus.UNKNOWN: 5,
    AuthStatus.ERROR: 5,
}


def _rate(part: int, whole: int) -> float | None:
    return part / whole if whole >= settings.BOUNCE_MIN_SENDS else None


def placement_counts(*, inbox: Inbox, days: int = PLACEMENT_WINDOW_DAYS) -> dict[str, int]:
    since = timezone.now() - timedelta(days=days)
    rows = (
        PlacementTest.objects.filter(inbox=inbox, sent_at__gte=since)
        .filter(status__in=[PlacementTest.Status.INBOX, PlacementTest.Status.SPAM, "missing"])
        .values("status")
        .annotate(n=Count("pk"))
    )
    return {row["status"]: row["n"] for row in rows}


def health_components(*, inbox: Inbox, auth_status: str) -> dict:
    bounced, attempts = bounce_rate(since_hours=settings.BOUNCE_LONG_WINDOW_DAYS * 24, inbox=inbox)
    complaints, sent = complaint_rate(inbox=inbox)
    placed = placement_counts(inbox=inbox)
    tests = sum(placed.values())
    return {
        "bounce": {"bounced": bounced, "sent": attempts, "rate": _rate(bounced, attempts)},
        "complaints": {"complaints": complaints, "sent": sent, "rate": _rate(complaints, sent)},
        "authentication": auth_status,
        "placement": {
            **placed,
            "tests": tests,
            "inbox_rate": placed.get("inbox", 0) / tests if tests else None,
        },
    }


def health_score(components: dict) -> tuple[int, list[str]]:
    """The score and, for each point lost, why."""
    lost: list[tuple[int, str]] = []
    bounce = components["bounce"]["rate"]
    if bounce:
        lost.append((min(30, round(bounce * 1500)), f"bounce rate {bounce:.1%} (28 days)"))
    complaint = components["complaints"]["rate"]
    if complaint:
        lost.append((min(30, round(complaint * 30000)), f"complaint rate {complaint:.2%}"))
    auth = components["authentication"]
    lost.append((_AUTH_PENALTY.get(auth, 5), f"authentication {auth}"))
    inbox_rate = components["placement"]["inbox_rate"]
    if inbox_rate is not None:
        lost.append((round(30 * (1 - inbox_rate)), f"{inbox_rate:.0%} of seed tests in the inbox"))
    reasons = [f"-{points}: {why}" for points, why in lost if points]
    return max(0, 100 - sum(points for points, _ in lost)), reasons


def grade(score: int | None) -> str:
    if score is None:
        return "unknown"
    return "good" if score >= 80 else "at risk" if score >= 50 else "poor"


def inbox_health_evaluate(*, inbox: Inbox) -> InboxDeliverability:
    """Score the inbox, store it, and apply the bounce and complaint pause rules."""
    row = inbox_deliverability_get(inbox=inbox)
    components = health_components(inbox=inbox, auth_status=row.auth_status)
    score, reasons = health_score(components)
    paused = bounce_protection_check(inbox=inbox, campaign=None)
    if complaint_protection_check(inbox=inbox):
        paused.append(f"inbox {inbox.email}: complaint rate over the threshold")
    for what in paused:
        deliverability_log(
            kind=DeliverabilityLog.Kind.AUTO_PAUSE, actor="rule:health", inbox=inbox, detail=what
        )
    row.health_score = score
    row.health_report = {"components": components, "reasons": reasons, "paused": paused}
    row.health_evaluated_at = timezone.now()
    row.save(update_fields=["health_score", "health_report", "health_evaluated_at", "updated_at"])
    return row
