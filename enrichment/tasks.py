"""Enrichment actors: ids in, a service call, nothing else.

Retries, backoff, dead letters and tracing come from the bus middleware and the
queue policies (`jengu.bus.policies`).
"""

from __future__ import annotations

import logging

from django.conf import settings
from dramatiq_crontab import interval

from crm.models import Prospect
from crm.regions import region_of_prospect_event
from enrichment.providers import ProviderUnavailable
from enrichment.services import email_validate, prospect_enrich
from enrichment.sweeper import enrichment_stuck_sweep
from jengu.bus import TransientError, current_envelope, event_actor
from jengu.bus.policies import policy_for

logger = logging.getLogger(__name__)

VALIDATE_QUEUE = "validate"


def _prospect(prospect_id: int) -> Prospect | None:
    prospect = Prospect.objects.filter(pk=prospect_id).first()
    if prospect is None:
        logger.info("prospect %s no longer exists; nothing to do", prospect_id)
    return prospect


@event_actor("EnrichProspect", queue="enrich", region_of=region_of_prospect_event)
def enrich_prospect(prospect_id: int) -> None:
    prospect = _prospect(prospect_id)
    if prospect is not None:
        prospect_enrich(prospect=prospect)


@event_actor("ValidateEmail", queue=VALIDATE_QUEUE)
def validate_email(prospect_id: int, email: str) -> None:
    prospect = _prospect(prospect_id)
    if prospect is None:
        return
    # While retries are left, a MillionVerifier outage is retried later; on the last
    # attempt the local verdict stands (marked as such) so the prospect moves on.
    envelope = current_envelope()
    attempt = envelope.retry_count if envelope else 0
    retries_left = attempt < policy_for(VALIDATE_QUEUE).max_retries
    try:
        email_validate(prospect=prospect, email=email, fallback_to_local=not retries_left)
    except ProviderUnavailable as exc:
        raise TransientError(str(exc)) from exc


@interval(seconds=settings.ENRICHMENT_STUCK_AFTER_MINUTES * 60 // 2)
@event_actor("SweepStuckEnrichment", queue="scheduled", max_retries=0)
def sweep_stuck_enrichment() -> None:
    """Re-emit enrichment and validation that a lost message left undone."""
    report = enrichment_stuck_sweep()
    logger.info(
        "SweepStuckEnrichment: %d re-enriched, %d re-validated",
        len(report.enrich),
        len(report.validate),
    )
