"""Shared setup for the reply tests: .eml fixtures and a prospect we e-mailed."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from crm.models import Enrollment, Inbox, Prospect, Stage
from jengu.redis_helpers import get_redis
from outreach.models import EmailMessage, InboundEmail
from outreach.replies.services import inbound_process, inbound_store
from tests.factories import (
    CampaignFactory,
    CampaignStepFactory,
    EnrollmentFactory,
    InboxFactory,
    ProspectFactory,
)

EML_DIR = Path(__file__).resolve().parent.parent / "fixtures" / "eml"
OUR_INBOX = "sales@jengu.example"


def eml(name: str) -> bytes:
    return (EML_DIR / name).read_bytes()


@dataclass
class Contacted:
    """A prospect in a live 3-step sequence whose step 1 went out from our inbox."""

    prospect: Prospect
    enrollment: Enrollment
    outbound: EmailMessage
    inbox: Inbox


@pytest.fixture
def our_inbox(db) -> Inbox:
    return InboxFactory(email=OUR_INBOX)


@pytest.fixture
def alerts_clean():
    """No alert cooldowns or recent alerts left by other tests."""
    client = get_redis()
    for key in client.scan_iter("jengu:alerts:*"):
        client.delete(key)


@pytest.fixture
def contact(our_inbox, settings, alerts_clean):
    """`contact("anna@hotel-lisboa.example", "<step1.anna@jengu.example>")` -> Contacted."""
    settings.REPLY_AI_ENABLED = False
    campaign = CampaignFactory()
    for order in (1, 2, 3):
        CampaignStepFactory(campaign=campaign, order=order, delay_days=3)

    def make(email: str, message_id: str, **prospect_fields) -> Contacted:
        prospect = ProspectFactory(email=email, stage=Stage.CONTACTED, **prospect_fields)
        sent_at = timezone.now() - timedelta(days=1)
        enrollment = EnrollmentFactory(
            prospect=prospect,
            campaign=campaign,
            current_step=2,
            next_send_at=timezone.now() + timedelta(days=2),
            last_sent_at=sent_at,
        )
        outbound = EmailMessage.objects.create(
            direction=EmailMessage.Direction.OUTBOUND,
            prospect=prospect,
            enrollment=enrollment,
            campaign=campaign,
            step=1,
            inbox=our_inbox,
            from_email=OUR_INBOX,
            to_email=email,
            subject="A question",
            body="Hi",
            message_id=message_id,
            status=EmailMessage.Status.SENT,
            idempotency_key=EmailMessage.idempotency_key_for(enrollment.pk, 1),
            sent_at=sent_at,
        )
        return Contacted(prospect, enrollment, outbound, our_inbox)

    return make


def receive(name_or_raw: str | bytes, **store_options):
    """Store and process one message the way the actor does; returns (inbound, result)."""
    raw = eml(name_or_raw) if isinstance(name_or_raw, str) else name_or_raw
    store_options.setdefault("source", InboundEmail.Source.WEBHOOK)
    inbound = inbound_store(raw=raw, emit_event=False, **store_options)
    result = inbound_process(inbound=inbound)
    inbound.refresh_from_db()
    return inbound, result
