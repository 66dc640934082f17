"""The deliverability log's one writer: what changed an inbox's or a campaign's sending,
and who did it (a person, an API key or a rule such as the sender's auto-pause)."""

from __future__ import annotations

import logging

from crm.models import Inbox
from outreach.deliverability_models import DeliverabilityLog

logger = logging.getLogger(__name__)


def deliverability_log(
    *, kind: str, actor: str, detail: str, inbox: Inbox | None = None, campaign=None
) -> None:
    DeliverabilityLog.objects.create(
        kind=kind, actor=actor[:150], detail=detail[:1000], inbox=inbox, campaign=campaign
    )
    logger.info("deliverability %s by %s: %s", kind, actor, detail)
