"""Read-only numbers over campaigns and their messages: the API's stats and summary."""

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from crm.enrollments import REPLIED_STAGES
from crm.models import Campaign, Enrollment, Inbox, Prospect, Stage
from outreach.models import EmailMessage


def campaign_stats(*, campaign: Campaign) -> dict[str, int | float]:
    """A campaign's numbers: enrollments by state, messages by outcome, rates."""
    enrollments = Enrollment.objects.filter(campaign=campaign)
    by_status = dict(enrollments.values_list("status").annotate(n=Count("id")).order_by())
    outcomes = enrollments.aggregate(
        enrolled=Count("id"),
        contacted=Count("id", filter=Q(last_sent_at__isnull=False)),
        replied=Count("id", filter=Q(status="replied") | Q(prospect__stage__in=REPLIED_STAGES)),
        unsubscribed=Count("id", filter=Q(prospect__stage="unsubscribed")),
    )
    outbound = EmailMessage.objects.filter(campaign=campaign, direction="outbound")
    messages = dict(outbound.values_list("status").annotate(n=Count("id")).order_by())
    sent = messages.get("sent", 0) + messages.get("bounced", 0)
    contacted = outcomes["contacted"]
    return {
        **outcomes,
        "active": by_status.get("active", 0),
        "paused": by_status.get("paused", 0),
        "finished": by_status.get("finished", 0),
        "stopped": by_status.get("stopped", 0),
        "sent": sent,
        "bounced": messages.get("bounced", 0),
        "failed": messages.get("failed", 0),
        "pending_approval": messages.get("pending_approval", 0),
        "queued": messages.get("queued", 0),
        "reply_rate": round(outcomes["replied"] / contacted, 4) if contacted else 0.0,
        "bounce_rate": round(messages.get("bounced", 0) / sent, 4) if sent else 0.0,
    }


def overview_summary() -> dict[str, Any]:
    """The overview's headline numbers (the API's `GET /metrics/summary`)."""
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    week = timezone.now() - timedelta(days=7)
    prospects_by_stage = dict(
        Prospect.objects.values_list("stage").annotate(n=Count("id")).order_by()
    )
    messages = EmailMessage.objects.aggregate(
        sent_today=Count("id", filter=Q(direction="outbound", sent_at__gte=today)),
        sent_7d=Count("id", filter=Q(direction="outbound", sent_at__gte=week)),
        replies_today=Count("id", filter=Q(direction="inbound", created_at__gte=today)),
        replies_7d=Count("id", filter=Q(direction="inbound", created_at__gte=week)),
        bounced_7d=Count("id", filter=Q(status="bounced", updated_at__gte=week)),
        pending_approval=Count("id", filter=Q(status="pending_approval")),
    )
    campaigns = dict(Campaign.objects.values_list("status").annotate(n=Count("id")).order_by())
    return {
        "prospects_total": sum(prospects_by_stage.values()),
        "prospects_by_stage": {
            stage.value: prospects_by_stage.get(stage.value, 0) for stage in Stage
        },
        "campaigns_by_status": {s.value: campaigns.get(s.value, 0) for s in Campaign.Status},
        "enrollments_active": Enrollment.objects.filter(status="active").count(),
        "inboxes_active": Inbox.objects.filter(active=True).count(),
        **messages,
    }
