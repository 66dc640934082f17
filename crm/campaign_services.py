"""Create and change campaigns with their steps (API and scripts)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from django.db import transaction

from crm.errors import InvalidInput
from crm.models import Campaign, CampaignStep, Inbox
from crm.services import campaign_set_status

CAMPAIGN_FIELDS = (
    "name",
    "strategy",
    "window_start_hour",
    "window_end_hour",
    "window_days",
    "skip_holidays",
    "require_approval",
    "approve_follow_ups",
    "sender_postal_address",
)
STEP_FIELDS = ("order", "delay_days", "subject_template", "body_template", "strategy", "variants")


def _check_window(campaign: Campaign) -> None:
    if campaign.window_start_hour == campaign.window_end_hour:
        raise InvalidInput("window_end_hour", "the sending window is empty (start == end)")
    if any(day not in range(7) for day in campaign.window_days):
        raise InvalidInput("window_days", "days are 0 (Monday) to 6 (Sunday)")


def _set_inboxes(campaign: Campaign, inbox_ids: Sequence[int]) -> None:
    inboxes = list(Inbox.objects.filter(pk__in=inbox_ids))
    missing = sorted(set(inbox_ids) - {inbox.pk for inbox in inboxes})
    if missing:
        raise InvalidInput("inbox_ids", f"no inbox with id {', '.join(map(str, missing))}")
    campaign.inboxes.set(inboxes)


def _replace_steps(campaign: Campaign, steps: Sequence[Mapping[str, Any]]) -> None:
    """Steps are numbered by `order` (or their position when it is missing)."""
    rows = [
        {name: step[name] for name in STEP_FIELDS if step.get(name) is not None}
        | {"order": step.get("order") or position}
        for position, step in enumerate(steps, start=1)
    ]
    orders = [row["order"] for row in rows]
    if len(set(orders)) != len(orders):
        raise InvalidInput("steps", "two steps have the same order")
    campaign.steps.all().delete()
    CampaignStep.objects.bulk_create(CampaignStep(campaign=campaign, **row) for row in rows)


def _check_can_activate(campaign: Campaign) -> None:
    if not campaign.steps.exists():
        raise InvalidInput("status", "a campaign needs at least one step to be active")
    if not campaign.inboxes.exists():
        raise InvalidInput("status", "a campaign needs at least one inbox to be active")


@transaction.atomic
def campaign_update(*, campaign: Campaign, data: Mapping[str, Any]) -> Campaign:
    """Apply the given fields; `steps` replaces all steps, `inbox_ids` all inboxes.

    Raises InvalidInput for values the database would accept but that make no
    campaign (empty window, unknown inbox, activating without steps or inboxes).
    """
    for name in CAMPAIGN_FIELDS:
        if name in data:
            setattr(campaign, name, data[name])
    _check_window(campaign)
    campaign.save()
    if "inbox_ids" in data:
        _set_inboxes(campaign, data["inbox_ids"])
    if "steps" in data:
        _replace_steps(campaign, data["steps"])
    status = data.get("status")
    if status and status != campaign.status:
        if status == Campaign.Status.ACTIVE:
            _check_can_activate(campaign)
        campaign_set_status(campaign=campaign, status=status)
    return campaign


def campaign_create(*, data: Mapping[str, Any]) -> Campaign:
    """A new campaign (draft unless `status` says otherwise) with its steps and inboxes."""
    return campaign_update(campaign=Campaign(), data=data)
