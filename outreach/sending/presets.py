"""Provider presets: the sending limits each mail provider enforces, as hard caps.

An inbox's `daily_limit` and `min_gap_seconds` may be stricter than its preset,
never looser: the sender applies the preset's caps on top of them, so a typo in
`daily_limit` cannot get a Workspace account suspended.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from crm.models import Inbox
from outreach.deliverability_models import InboxDeliverability, ProviderPreset


@dataclass(frozen=True)
class Preset:
    name: str
    daily_max: int | None  # messages a day the provider allows one mailbox
    per_minute: int | None  # messages a minute
    dkim_selector: str  # where the provider publishes its DKIM key, when it does
    spf_include: str  # the include its SPF instructions ask for


PRESETS = {
    # Workspace: 2,000 messages a day per user. Google names no per-minute figure for
    # its SMTP submission; 20 a minute stays well inside what accounts report as safe.
    ProviderPreset.GOOGLE_WORKSPACE: Preset(
        ProviderPreset.GOOGLE_WORKSPACE, 2000, 20, "google", "_spf.google.com"
    ),
    # Exchange Online: 10,000 recipients a day and 30 messages a minute per mailbox.
    ProviderPreset.MICROSOFT_365: Preset(
        ProviderPreset.MICROSOFT_365, 10000, 30, "selector1", "spf.protection.outlook.com"
    ),
    ProviderPreset.GENERIC_SMTP: Preset(ProviderPreset.GENERIC_SMTP, None, None, "", ""),
}
RESEND_DKIM_SELECTOR = "resend"


def inbox_settings(inbox: Inbox) -> InboxDeliverability | None:
    """The inbox's deliverability row (cached on it by the sender's inbox query)."""
    try:
        return inbox.deliverability
    except InboxDeliverability.DoesNotExist:
        return None


def inbox_preset(inbox: Inbox) -> Preset:
    row = inbox_settings(inbox)
    return PRESETS[ProviderPreset(row.provider_preset if row else ProviderPreset.GENERIC_SMTP)]


def preset_daily_cap(*, inbox: Inbox) -> int:
    """`daily_limit`, lowered to the preset's daily maximum."""
    cap = inbox_preset(inbox).daily_max
    return inbox.daily_limit if cap is None else min(inbox.daily_limit, cap)


def preset_min_gap(*, inbox: Inbox) -> int:
    """`min_gap_seconds`, raised to what the preset's per-minute limit needs."""
    per_minute = inbox_preset(inbox).per_minute
    floor = math.ceil(60 / per_minute) if per_minute else 0
    return max(inbox.min_gap_seconds, floor)


def dkim_selector_for(inbox: Inbox) -> str:
    """The configured selector, else the preset's (or Resend's) usual one."""
    row = inbox_settings(inbox)
    if row and row.dkim_selector:
        return row.dkim_selector
    if inbox.transport == Inbox.Transport.RESEND:
        return RESEND_DKIM_SELECTOR
    return inbox_preset(inbox).dkim_selector
