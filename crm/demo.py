"""Demo data for `make run`: an admin user, an inbox, a campaign with steps, prospects.

Idempotent: a second run finds the demo campaign and changes nothing, so a
restart of `make run` keeps what the user did in the meantime.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from crm.demo_data import CITIES, CONTACTS, NAMES, WORDS
from crm.enrollments import campaign_enroll
from crm.models import Campaign, CampaignStep, EmailStatus, Inbox, Prospect

DEMO_CAMPAIGN = "Demo: boutique hotels, spring"
DEMO_SMTP_PORT = 1025

STEPS = [
    (
        0,
        "{Quick question|A question} for {{ business_name }}",
        "{Hi|Hello} {{ contact_first_name|default:'there' }},\n\n"
        "I help independent hotels in {{ city }} fill midweek rooms with direct bookings "
        "instead of OTA commissions. Would a 15-minute call next week be useful?\n\n"
        "Best,\nSam",
    ),
    (
        3,
        "Re: a question for {{ business_name }}",
        "{Hi|Hello} {{ contact_first_name|default:'there' }},\n\n"
        "Just floating this back up: hotels like {{ business_name }} usually win back "
        "8–12% of their commission spend in the first quarter. Worth a look?\n\nSam",
    ),
    (
        5,
        "Closing the loop",
        "Hi {{ contact_first_name|default:'there' }},\n\nI won't write again after this one. "
        "If direct bookings become a priority for {{ business_name }}, just reply.\n\nSam",
    ),
]


@dataclass
class DemoResult:
    created: bool
    username: str = ""
    password: str = ""


def _demo_prospects() -> list[Prospect]:
    prospects = []
    for index in range(50):
        city, country, tz = CITIES[index % len(CITIES)]
        name = f"{NAMES[index % len(NAMES)]} {WORDS[index // 5 % len(WORDS)]} {city}"
        slug = name.lower().replace(" ", "")
        has_email = index % 5 != 4  # every fifth prospect needs enrichment
        contact = CONTACTS[index % len(CONTACTS)]
        prospects.append(
            Prospect(
                business_name=name,
                contact_name=contact,
                email=f"{(contact.split(' ')[0] or 'info').lower()}@{slug}.example"
                if has_email
                else "",
                email_status=EmailStatus.VALID if has_email else EmailStatus.UNKNOWN,
                website=f"https://{slug}.example" if has_email else "",
                domain=f"{slug}.example" if has_email else "",
                city=city,
                country=country,
                timezone=tz,
                industry="hospitality",
                source="demo",
                tags=["demo", "boutique"],
            )
        )
    return prospects


def _admin_user() -> tuple[str, str]:
    user_model = get_user_model()
    if user_model.objects.filter(username="admin").exists():
        return "", ""
    password = secrets.token_urlsafe(12)
    user_model.objects.create_superuser("admin", "admin@jengu.example", password)
    return "admin", password


@transaction.atomic
def demo_seed() -> DemoResult:
    """Create the demo records unless the demo campaign already exists."""
    if Campaign.objects.filter(name=DEMO_CAMPAIGN).exists():
        return DemoResult(created=False)
    username, password = _admin_user()
    inbox = Inbox.objects.create(
        email="sam@jengu-demo.example",
        display_name="Sam from Jengu",
        smtp_host="127.0.0.1",
        smtp_port=DEMO_SMTP_PORT,
        smtp_security=Inbox.Security.NONE,
        daily_limit=40,
        # Warmed up for a month already, so the demo is not capped at day one's 5.
        warmup_start=timezone.localdate() - timedelta(days=30),
        min_gap_seconds=5,
    )
    campaign = Campaign.objects.create(
        name=DEMO_CAMPAIGN,
        status=Campaign.Status.ACTIVE,
        window_start_hour=0,
        window_end_hour=24,
        window_days=[0, 1, 2, 3, 4, 5, 6],
        skip_holidays=False,
        sender_postal_address="Jengu Demo Ltd, 1 Rua Augusta, 1100-048 Lisbon, Portugal",
    )
    campaign.inboxes.add(inbox)
    CampaignStep.objects.bulk_create(
        CampaignStep(
            campaign=campaign,
            order=order,
            delay_days=delay,
            subject_template=subject,
            body_template=body,
        )
        for order, (delay, subject, body) in enumerate(STEPS, start=1)
    )
    prospects = Prospect.objects.bulk_create(_demo_prospects())
    ready = [p.pk for p in prospects if p.email][:20]
    Prospect.objects.filter(pk__in=ready).update(stage="ready")
    campaign_enroll(campaign=campaign, prospect_ids=ready)
    return DemoResult(created=True, username=username, password=password)
