"""Reads for the timeline, the review queue, the replies inbox and the ops panels."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Avg, Case, Count, IntegerField, Q, QuerySet, Value, When
from django.urls import reverse
from django.utils import timezone

from crm.models import Inbox, Prospect
from jengu.events.models import Event
from outreach.models import AICall, EmailMessage, InboundEmail
from outreach.sending.warmup import warmup_status

# Replies a person should answer first, most urgent first.
HUMAN_FIRST = [
    InboundEmail.Label.INTERESTED,
    InboundEmail.Label.MEETING,
    InboundEmail.Label.QUESTION,
]


@dataclass
class TimelineItem:
    at: datetime
    kind: str  # stage | out | in | reply | created | event
    title: str
    detail: str = ""
    link: str = ""


def prospect_timeline(*, prospect: Prospect, limit: int = 200) -> list[TimelineItem]:
    """Everything that happened to one prospect, newest first."""
    items = [TimelineItem(prospect.created_at, "created", f"Added ({prospect.source or 'manual'})")]
    for change in prospect.stage_changes.all()[:limit]:
        items.append(
            TimelineItem(
                change.created_at,
                "stage",
                f"Stage {change.from_stage} → {change.to_stage}",
                f"{change.changed_by}{': ' + change.reason if change.reason else ''}",
            )
        )
    for message in prospect.messages.select_related("inbox").defer("body")[:limit]:
        items.append(_message_item(message))
    for reply in prospect.inbound.all().defer("raw")[:limit]:
        label = reply.get_label_display() if reply.label else "unlabelled"
        items.append(
            TimelineItem(reply.received_at, "reply", f"Reply labelled {label}", reply.subject)
        )
    items.extend(_event_items(prospect=prospect, limit=limit))
    return sorted(items, key=lambda item: item.at, reverse=True)


def _message_item(message: EmailMessage) -> TimelineItem:
    outbound = message.direction == EmailMessage.Direction.OUTBOUND
    at = message.sent_at or message.created_at
    step = f"step {message.step}" if message.step else ""
    title = (
        f"E-mail out ({message.status}{', ' + step if step else ''})" if outbound else "E-mail in"
    )
    return TimelineItem(at, "out" if outbound else "in", title, message.subject)


def _event_items(*, prospect: Prospect, limit: int) -> list[TimelineItem]:
    """Pipeline events whose payload names this prospect, linked to their trace."""
    events = (
        Event.objects.filter(payload__prospect_id=prospect.id)
        .exclude(status=Event.Status.RECORDED)
        .only("type", "status", "trace_id", "created_at", "error")
        .order_by("-created_at")[:limit]
    )
    return [
        TimelineItem(
            event.created_at,
            "event",
            f"Event {event.type}",
            event.get_status_display() + (f": {event.error[:120]}" if event.error else ""),
            reverse("crm:trace", args=[event.trace_id]),
        )
        for event in events
    ]


def review_queue(*, limit: int = 100) -> QuerySet[EmailMessage]:
    """AI-written e-mails waiting for a person, oldest first (first in, first out)."""
    return (
        EmailMessage.objects.filter(status=EmailMessage.Status.PENDING_APPROVAL)
        .select_related("prospect", "campaign", "inbox")
        .order_by("created_at")[:limit]
    )


def pending_messages(*, ids: list[int]) -> QuerySet[EmailMessage]:
    """The given messages that are still waiting (others were handled meanwhile)."""
    return EmailMessage.objects.filter(id__in=ids, status=EmailMessage.Status.PENDING_APPROVAL)


def replies_needing_human(*, limit: int = 10) -> list[InboundEmail]:
    """Unhandled replies, interested and meeting requests and questions first."""
    urgency = Case(
        *(When(label=label, then=Value(i)) for i, label in enumerate(HUMAN_FIRST)),
        default=Value(len(HUMAN_FIRST)),
        output_field=IntegerField(),
    )
    return list(
        InboundEmail.objects.filter(needs_human=True)
        .defer("raw")
        .select_related("prospect")
        .annotate(urgency=urgency)
        .order_by("urgency", "-received_at")[:limit]
    )


def replies_inbox(
    *,
    label: str = "",
    campaign_id: int | None = None,
    before_id: int | None = None,
    limit: int = 50,
) -> tuple[list[InboundEmail], int | None]:
    """Replies (bounces included, so they can be relabelled), newest first, keyset by id."""
    qs = InboundEmail.objects.defer("raw").select_related("prospect", "replied_to__campaign")
    if label == "needs_human":
        qs = qs.filter(needs_human=True)
    elif label:
        qs = qs.filter(label=label)
    if campaign_id:
        qs = qs.filter(replied_to__campaign_id=campaign_id)
    if before_id:
        qs = qs.filter(id__lt=before_id)
    rows = list(qs.order_by("-id")[: limit + 1])
    return rows[:limit], (rows[limit - 1].id if len(rows) > limit else None)


def thread(*, reply: InboundEmail) -> list[EmailMessage]:
    """The prospect's messages, oldest first, for the reply's thread view."""
    if reply.prospect_id is None:
        return []
    return list(EmailMessage.objects.filter(prospect_id=reply.prospect_id).order_by("created_at"))


@dataclass
class ProviderStats:
    provider: str
    calls: int
    success_rate: float
    avg_latency_ms: int


def ai_provider_stats(*, hours: int = 24) -> list[ProviderStats]:
    since = timezone.now() - timedelta(hours=hours)
    rows = (
        AICall.objects.filter(created_at__gte=since)
        .values("provider")
        .annotate(n=Count("id"), ok=Count("id", filter=Q(success=True)), ms=Avg("latency_ms"))
        .order_by("provider")
    )
    return [
        ProviderStats(r["provider"], r["n"], round(100 * r["ok"] / r["n"], 1), int(r["ms"] or 0))
        for r in rows
    ]


@dataclass
class SendingToday:
    sent: int
    cap: int
    failed_7d: int
    sent_7d: int

    @property
    def success_rate(self) -> float | None:
        attempts = self.sent_7d + self.failed_7d
        return round(100 * self.sent_7d / attempts, 1) if attempts else None


def inbox_rows() -> list:
    """Warm-up status per inbox (cap, taken today, next free slot) from the sender."""
    # The deliverability row carries the provider preset's caps.
    inboxes = Inbox.objects.select_related("deliverability").order_by("email")
    return warmup_status(inboxes=list(inboxes))
