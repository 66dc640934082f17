"""Data builders for dashboard tests: messages and replies as the stages write them."""

from __future__ import annotations

from datetime import datetime

import pytest
from django.utils import timezone

from outreach.models import EmailMessage, InboundEmail
from tests.observability.conftest import clear_observability_keys


def outbound(
    *,
    enrollment,
    step: int,
    status: str = "sent",
    variant: str = "",
    sent_at: datetime | None = None,
    inbox=None,
) -> EmailMessage:
    return EmailMessage.objects.create(
        direction=EmailMessage.Direction.OUTBOUND,
        prospect=enrollment.prospect,
        enrollment=enrollment,
        campaign=enrollment.campaign,
        step=step,
        variant=variant,
        inbox=inbox,
        to_email=enrollment.prospect.email,
        subject=f"Step {step} for {enrollment.prospect.business_name}",
        body="Hello",
        status=status,
        idempotency_key=EmailMessage.idempotency_key_for(enrollment.id, step),
        sent_at=sent_at or (timezone.now() if status in ("sent", "bounced") else None),
    )


def reply(*, to: EmailMessage, label: str, needs_human: bool = False) -> InboundEmail:
    raw = (
        f"From: {to.to_email}\r\nTo: sales@jengu.example\r\nSubject: Re: {to.subject}\r\n"
        f"Message-ID: <reply-{to.id}-{label}@prospect.example>\r\n\r\nSounds good.\r\n"
    )
    return InboundEmail.objects.create(
        raw=raw.encode(),
        source=InboundEmail.Source.IMAP,
        inbox=to.inbox,
        from_email=to.to_email,
        subject=f"Re: {to.subject}",
        status=InboundEmail.Status.PROCESSED,
        replied_to=to,
        prospect=to.prospect,
        label=label,
        needs_human=needs_human,
    )


@pytest.fixture(autouse=True)
def clean_redis():
    clear_observability_keys()
    yield
    clear_observability_keys()
