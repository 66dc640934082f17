"""Inbox rotation: the campaign inbox with free capacity, a closed breaker and the longest rest."""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from crm.models import Campaign, Inbox
from jengu.redis_helpers import CircuitBreaker, redis_best_effort
from jengu.redis_helpers.breaker import CLOSED, OPEN, BreakerState
from jengu.regions import default_region
from jengu.sql import fetch_rows, row_instances, select_list
from outreach.deliverability_models import InboxDeliverability

from .warmup import (
    pacing_release,
    pacing_reserve,
    pacing_wait_seconds,
    send_day,
    warmup_release,
    warmup_reserve,
)

# When every inbox is at its cap (or there is none), come back after this long at most.
MAX_RETRY_SECONDS = 300.0
# A half-open breaker's probe answers within one SMTP conversation: look again after this.
PROBE_WAIT_SECONDS = 10.0
# E-mails held for one breaker come back spread over this many seconds, not all at once.
BREAKER_RETRY_SPREAD_SECONDS = 5.0


def inbox_breaker(inbox: Inbox) -> CircuitBreaker:
    """The breaker shared by every worker for one inbox's provider connection."""
    return CircuitBreaker(
        f"smtp:{inbox.pk}",
        failure_threshold=settings.SEND_BREAKER_FAILURE_THRESHOLD,
        reset_timeout=settings.SEND_BREAKER_RESET_SECONDS,
    )


def _breaker_wait(snapshot: BreakerState) -> float:
    """Seconds until an e-mail held for this breaker is worth another try.

    Open: when it lets its probe through. Half-open or closed after a failure:
    shortly, when the probe (or the next failure) has told whether the server is back.
    """
    if snapshot.state == OPEN:
        return snapshot.retry_in + random.uniform(0, BREAKER_RETRY_SPREAD_SECONDS)
    return PROBE_WAIT_SECONDS


def inbox_retry_seconds(inbox: Inbox) -> float:
    """When an inbox that just failed is worth trying again (its breaker decides)."""
    return _breaker_wait(inbox_breaker(inbox).snapshot())


@dataclass
class Slot:
    """One reserved send from one inbox: a warm-up slot plus its pacing claim."""

    inbox: Inbox
    day: date

    def release(self) -> None:
        """The e-mail did not leave: give the slot and the rest back.

        Best effort: if Redis fails, the day's count errs high, never low.
        """
        with redis_best_effort(f"giving back a slot of inbox {self.inbox.pk}"):
            warmup_release(inbox=self.inbox, day=self.day)
            pacing_release(inbox=self.inbox)


@dataclass(frozen=True)
class Pick:
    slot: Slot | None
    reason: str = ""  # why no slot: no_inbox | at_cap | resting | breaker_open
    retry_after: float = 0.0
    probing: tuple[int, ...] = ()  # inboxes whose half-open breaker has its probe out


# Plain SQL: it runs on every send (jengu/sql.py). Bounce protection and failing
# domain authentication (the deliverability row's gate) pause first touches only;
# follow-ups keep their inbox. An inbox paused for a reason (blocked by receivers,
# refused for its authentication) sends nothing at all. The deliverability row comes
# along (presets' caps, DKIM signing) so the send reads it without another query.
_CANDIDATES_SQL = """
SELECT {columns}, {settings_columns}
FROM {inbox} AS i
JOIN {campaign_inbox} AS ci ON ci.inbox_id = i.id
LEFT JOIN {settings} AS d ON d.inbox_id = i.id
WHERE ci.campaign_id = %(campaign)s AND i.active
  AND NOT (i.id = ANY(%(exclude)s))
  AND NOT (%(first_step)s AND (i.sending_paused OR COALESCE(d.first_touch_blocked, false)))
  AND i.paused_reason = ''{regional}
ORDER BY i.last_sent_at ASC NULLS FIRST, i.id
"""
# With regions: the campaign's inboxes homed in the e-mail's region (`homes`: the
# region, and '' for the default one), or all of them when it has none active there.
_REGIONAL = """
  AND (i.region = ANY(%(homes)s) OR NOT EXISTS (
    SELECT 1 FROM {inbox} AS home JOIN {campaign_inbox} AS hc ON hc.inbox_id = home.id
    WHERE hc.campaign_id = %(campaign)s AND home.active AND home.region = ANY(%(homes)s)))"""
_TABLES = {
    "columns": select_list(Inbox, "i"),
    "settings_columns": select_list(InboxDeliverability, "d"),
    "inbox": Inbox._meta.db_table,
    "campaign_inbox": Campaign.inboxes.through._meta.db_table,
    "settings": InboxDeliverability._meta.db_table,
}
_ANY_REGION_SQL = _CANDIDATES_SQL.format(**_TABLES, regional="")
_IN_REGION_SQL = _CANDIDATES_SQL.format(**_TABLES, regional=_REGIONAL.format(**_TABLES))


def _with_settings(row) -> Inbox:
    inbox, settings_row = row_instances(row, [Inbox, InboxDeliverability])
    Inbox.deliverability.related.set_cached_value(inbox, settings_row)
    return inbox


def rotation_candidates(
    *,
    campaign: Campaign,
    first_step: bool,
    exclude: Iterable[int] = (),
    prefer: int | None = None,
    region: str | None = None,
) -> list[Inbox]:
    """Usable inboxes in the order to try: the preferred one, then the longest rested.

    With `region` (an e-mail's, when regions are on), only the inboxes homed there,
    if the campaign has any.
    """
    params = {"campaign": campaign.pk, "exclude": list(exclude), "first_step": first_step}
    sql = _ANY_REGION_SQL
    if region is not None:
        sql, params["homes"] = _IN_REGION_SQL, _homes(region)
    ordered = [_with_settings(row) for row in fetch_rows(sql, params)]
    ordered.sort(key=lambda inbox: inbox.pk != prefer)  # stable: keeps the rest order
    return ordered


def _homes(region: str) -> list[str]:
    """The `Inbox.region` values of inboxes homed in `region` (blank is the default)."""
    return [region, ""] if region == default_region() else [region]


@dataclass(frozen=True)
class Unusable:
    """Why an inbox cannot send now, and in how many seconds it may."""

    reason: str
    wait: float
    probing: bool = False  # its breaker's probe is out: the answer is near


def _try_reserve(inbox: Inbox, day: date) -> Unusable | None:
    """Reserve a slot on `inbox`; None on success."""
    breaker = inbox_breaker(inbox)
    snapshot = breaker.snapshot()
    if snapshot.state == OPEN:
        return Unusable("breaker_open", _breaker_wait(snapshot))
    if not warmup_reserve(inbox=inbox, day=day):
        return Unusable("at_cap", MAX_RETRY_SECONDS)
    if not pacing_reserve(inbox=inbox):
        warmup_release(inbox=inbox, day=day)
        return Unusable("resting", pacing_wait_seconds(inbox=inbox) + 0.05)
    # A closed breaker lets every call through: only a half-open one hands out probes,
    # and another worker may hold its last one.
    if snapshot.state != CLOSED and not breaker.allow():
        Slot(inbox, day).release()
        return Unusable("breaker_open", PROBE_WAIT_SECONDS, probing=True)
    return None


def inbox_pick(
    *,
    campaign: Campaign,
    first_step: bool,
    exclude: Iterable[int] = (),
    prefer: int | None = None,
    region: str | None = None,
) -> Pick:
    """Reserve a send on the best usable inbox of `campaign` (in `region`, see
    `rotation_candidates`), or say why none is free and when the first one may be
    (`retry_after`)."""
    day = send_day()
    unusable: dict[int, Unusable] = {}
    for inbox in rotation_candidates(
        campaign=campaign, first_step=first_step, exclude=exclude, prefer=prefer, region=region
    ):
        refusal = _try_reserve(inbox, day)
        if refusal is None:
            return Pick(Slot(inbox, day))
        unusable[inbox.pk] = refusal
    if not unusable:
        return Pick(None, "no_inbox", MAX_RETRY_SECONDS)
    reasons = {refusal.reason for refusal in unusable.values()}
    reason = next(r for r in ("resting", "at_cap", "breaker_open") if r in reasons)
    wait = min(refusal.wait for refusal in unusable.values())
    probing = tuple(pk for pk, refusal in unusable.items() if refusal.probing)
    return Pick(None, reason, min(wait, MAX_RETRY_SECONDS), probing)
