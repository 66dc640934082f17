"""Dramatiq middleware of the event log: every attempt's row, every dead letter.

They sit with the bus's own middleware in `DRAMATIQ_BROKER["MIDDLEWARE"]`, between
`Deduplication` and `EventRetries` (see `jengu.bus.middleware` for why the order
matters).
"""

from .dead_letters import DeadLetters
from .event_log import EventLog

__all__ = ["DeadLetters", "EventLog"]
