"""What the dashboard's inbox and campaign pages show of deliverability (their partials
are templates/dashboard/_deliverability_*.html)."""

from __future__ import annotations

from crm.models import Campaign
from outreach.deliverability_models import DeliverabilityLog, SeedMailbox

from .ab import campaign_ab_results
from .selectors import inbox_summaries, placement_by_inbox_and_provider, placement_weekly
from .send_time_services import (
    campaign_optimisation,
    campaign_send_time_lift,
    campaign_slot_table,
)


def inbox_page_context() -> dict:
    """Per inbox: authentication, fixes, gate and health; placement per inbox and provider."""
    return {
        "deliverability": {summary.inbox.pk: summary for summary in inbox_summaries()},
        "placement_rows": placement_by_inbox_and_provider(days=28),
        "placement_weekly": placement_weekly(days=56),
        "seed_count": SeedMailbox.objects.filter(active=True).count(),
        "deliverability_log": DeliverabilityLog.objects.select_related("inbox")[:10],
    }


def campaign_page_context(*, campaign: Campaign) -> dict:
    """The campaign's send-time settings, lift over the holdout, slots, and A/B winners."""
    return {
        "optimisation": campaign_optimisation(campaign=campaign),
        "send_time_lift": campaign_send_time_lift(campaign=campaign),
        "send_time_slots": campaign_slot_table(campaign=campaign),
        "ab_results": campaign_ab_results(campaign=campaign),
    }
