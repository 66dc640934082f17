"""Dramatiq middleware of the event bus, one concern per module.

Order in `DRAMATIQ_BROKER["MIDDLEWARE"]` matters: before-hooks run in list order
and after-hooks in reverse, so these come before `EventRetries` (whose after-hook
decides between retry and failure: a hook added after it still sees
`message.failed == False` on the final attempt) and in this order:

    EnvelopeContext, Deduplication, EventLog, DeadLetters, EventRetries

(`EventLog` and `DeadLetters` belong to the event log, `jengu.events.middleware`;
`jengu.workers.EventMetrics` sits before them all for the same reason.)
"""

from .context import EnvelopeContext
from .dedup import Deduplication
from .regions import RegionalQueues, regional_queues_declare
from .retries import EventRetries

__all__ = [
    "Deduplication",
    "EnvelopeContext",
    "EventRetries",
    "RegionalQueues",
    "regional_queues_declare",
]
