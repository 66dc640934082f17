"""Inbox rotation: the campaign inbox with free capacity, a closed breaker and the longest rest."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from crm.models import Campaign, Inbox
from jengu.redis_helpers import CircuitBreaker
from jengu.redis_helpers.breaker import CLOSED, OPEN
from jengu.sql import fetch_rows, row_instances, select_list

from .warmup import (
    pacing_release,
    pacing_reserve,
    pacing_wait_seconds,
    send_day,
    warmup_release,
    warmup_reserve,
)

# When every inbox is resting or broken, come back after this long at most.
MAX_RETRY_SECONDS = 300.0


def inbox_breaker(inbox: Inbox) -> CircuitBreaker:
    """The breaker shared by every worker for one inbox's provider connection."""
    return CircuitBreaker(f"smtp:{inbox.pk}")


@dataclass
class Slot:
    """One reserved send from one inbox: a warm-up slot plus its pacing claim."""

    inbox: Inbox
    day: date

    def release(self) -> None:
        """The e-mail did not leave: give the slot and the rest back."""
        warmup_release(inbox=self.inbox, day=self.day)
        pacing_release(inbox=self.inbox)


@dataclass(frozen=True)
class Pick:
    slot: Slot | None
    reason: str = ""  # why no slot: no_inbox | at_cap | resting | breaker_open
    retry_after: float = 0.0


# Plain SQL: it runs on every send (jengu/sql.py). Bounce protection pauses first
# touches only; follow-ups keep their inbox. An inbox paused for a reason (blocked by
# receivers, failing authentication) sends nothing at all.
_CANDIDATES_SQL = f"""
SELECT {select_list(Inbox, "i")}
FROM {Inbox._meta.db_table} AS i
JOIN {Campaign.inboxes.through._meta.db_table} AS ci ON ci.inbox_id = i.id
WHERE ci.campaign_id = %(campaign)s AND i.active
  AND NOT (i.id = ANY(%(exclude)s))
  AND NOT (%(first_step)s AND i.sending_paused) AND i.paused_reason = ''
ORDER BY i.last_sent_at ASC NULLS FIRST, i.id
"""  # noqa: S608 - table names from the models


def rotation_candidates(
    *, campaign: Campaign, first_step: bool, exclude: Iterable[int] = (), prefer: int | None = None
) -> list[Inbox]:
    """Usable inboxes in the order to try: the preferred one, then the longest rested."""
    params = {"campaign": campaign.pk, "exclude": list(exclude), "first_step": first_step}
    ordered = [row_instances(row, [Inbox])[0] for row in fetch_rows(_CANDIDATES_SQL, params)]
    ordered.sort(key=lambda inbox: inbox.pk != prefer)  # stable: keeps the rest order
    return ordered


def _try_reserve(inbox: Inbox, day: date) -> str:
    """Reserve a slot on `inbox`; "" on success, else the reason it is not usable now."""
    breaker = inbox_breaker(inbox)
    state = breaker.state
    if state == OPEN:
        return "breaker_open"
    if not warmup_reserve(inbox=inbox, day=day):
        return "at_cap"
    if not pacing_reserve(inbox=inbox):
        warmup_release(inbox=inbox, day=day)
        return "resting"
    # A closed breaker lets every call through: only a half-open one hands out probes,
    # and another worker may hold its last one.
    if state != CLOSED and not breaker.allow():
        Slot(inbox, day).release()
        return "breaker_open"
    return ""


def inbox_pick(
    *, campaign: Campaign, first_step: bool, exclude: Iterable[int] = (), prefer: int | None = None
) -> Pick:
    """Reserve a send on the best usable inbox of `campaign`, or say why none is free."""
    day = send_day()
    reasons: list[str] = []
    waits: list[float] = []
    for inbox in rotation_candidates(
        campaign=campaign, first_step=first_step, exclude=exclude, prefer=prefer
    ):
        reason = _try_reserve(inbox, day)
        if not reason:
            return Pick(Slot(inbox, day))
        reasons.append(reason)
        if reason == "resting":
            waits.append(pacing_wait_seconds(inbox=inbox))
    if not reasons:
        return Pick(None, "no_inbox", MAX_RETRY_SECONDS)
    if waits:
        return Pick(None, "resting", min(min(waits) + 0.05, MAX_RETRY_SECONDS))
    reason = "at_cap" if "at_cap" in reasons else reasons[0]
    return Pick(None, reason, MAX_RETRY_SECONDS)
