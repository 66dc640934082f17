"""Re-emit enrichment work that a lost message left behind (docs/pipeline.md, "Principles").

A queue message is only a nudge: when Redis loses one, the prospect's row still says
what is due. Prospects stuck in `enriching`, and `enriched` prospects still waiting
for a verdict, get their event again once they have been quiet for
`ENRICHMENT_STUCK_AFTER_MINUTES`. A repeat is harmless: enrichment takes the
prospect lock, and a verdict recorded twice just re-decides the same choice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from crm.models import Prospect, Stage
from jengu.bus import emit

BATCH = 500


@dataclass
class EnrichmentSweep:
    enrich: list[int] = field(default_factory=list)
    validate: list[tuple[int, str]] = field(default_factory=list)


def enrichment_stuck_sweep() -> EnrichmentSweep:
    cutoff = timezone.now() - timedelta(minutes=settings.ENRICHMENT_STUCK_AFTER_MINUTES)
    report = EnrichmentSweep()
    stuck = Prospect.objects.filter(stage=Stage.ENRICHING, updated_at__lt=cutoff)
    for prospect_id in stuck.order_by("updated_at").values_list("id", flat=True)[:BATCH]:
        emit("EnrichProspect", {"prospect_id": prospect_id}, source="sweeper")
        report.enrich.append(prospect_id)
    waiting = Prospect.objects.filter(
        ~Q(enrichment__has_key="chosen"), stage=Stage.ENRICHED, updated_at__lt=cutoff
    ).exclude(enrichment__to_validate=[])
    for prospect_id, data in waiting.values_list("id", "enrichment")[:BATCH]:
        verdicts = data.get("validation", {})
        for email in data.get("to_validate", []):
            if email not in verdicts:
                emit(
                    "ValidateEmail", {"prospect_id": prospect_id, "email": email}, source="sweeper"
                )
                report.validate.append((prospect_id, email))
    return report
