"""Which queue a prospect's enrichment runs on: the one place regional routing goes."""

from __future__ import annotations

from crm.models import Prospect

DEFAULT_QUEUE = "enrich"


def enrichment_queue_for(prospect: Prospect | None = None) -> str:
    """`enrich` for everyone today.

    Regional queues (e.g. `enrich-eu-west`, picked from `prospect.timezone`) are added
    here alone when workers run in several regions; `None` asks for the default queue
    the `EnrichProspect` actor is declared on.
    """
    return DEFAULT_QUEUE
