"""Writes on CRM records. Views, admin actions, actors and commands call these."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from crm.models import Campaign, Prospect, Stage, StageChange
from crm.regions import prospect_region
from crm.upsert import UPSERT_FIELDS, RowError, natural_key, prospect_row_clean, prospects_upsert
from jengu.apikeys.webhooks import webhooks_publish
from jengu.bus import emit
from jengu.errors import StateConflict
from jengu.sql import execute, fetch_row

TERMINAL_STAGES = frozenset({Stage.UNSUBSCRIBED, Stage.BOUNCED})

# Where a prospect may go from each stage. Terminal stages (unsubscribed, bounced)
# have no way out: only a person editing the record in admin can undo them.
ALLOWED_TRANSITIONS: dict[str, frozenset[str]] = {
    Stage.NEW: frozenset(
        {Stage.ENRICHING, Stage.ENRICHED, Stage.READY, Stage.CONTACTED, Stage.INVALID}
    ),
    Stage.ENRICHING: frozenset({Stage.NEW, Stage.ENRICHED, Stage.READY, Stage.INVALID}),
    Stage.ENRICHED: frozenset({Stage.ENRICHING, Stage.READY, Stage.INVALID, Stage.CONTACTED}),
    Stage.READY: frozenset({Stage.ENRICHING, Stage.CONTACTED, Stage.INVALID}),
    Stage.CONTACTED: frozenset({Stage.REPLIED, Stage.MEETING, Stage.WON}),
    Stage.REPLIED: frozenset({Stage.MEETING, Stage.WON}),
    Stage.MEETING: frozenset({Stage.WON, Stage.REPLIED}),
    Stage.WON: frozenset(),
    Stage.LOST: frozenset({Stage.NEW, Stage.READY}),
    Stage.INVALID: frozenset({Stage.NEW, Stage.ENRICHING}),
    Stage.UNSUBSCRIBED: frozenset(),
    Stage.BOUNCED: frozenset(),
}
# Any live prospect can be lost, unsubscribe or bounce.
for _stage, _targets in list(ALLOWED_TRANSITIONS.items()):
    if _stage not in TERMINAL_STAGES and _stage != Stage.LOST:
        ALLOWED_TRANSITIONS[_stage] = _targets | {Stage.LOST, Stage.UNSUBSCRIBED, Stage.BOUNCED}


class InvalidStageTransition(StateConflict):
    def api_detail(self) -> str:
        return f"stage change refused: {self}"


def stage_transition_allowed(*, from_stage: str, to_stage: str) -> bool:
    return to_stage in ALLOWED_TRANSITIONS.get(from_stage, frozenset())


# Plain SQL: a first e-mail moves its prospect, so this runs for most sends (jengu/sql.py).
_LOCK_SQL = f"""
SELECT stage, email, business_name FROM {Prospect._meta.db_table} WHERE id = %s FOR UPDATE
"""  # noqa: S608 - table names from the models
_MOVE_SQL = f"""
WITH moved AS (
    UPDATE {Prospect._meta.db_table} SET stage = %(to)s, updated_at = %(now)s WHERE id = %(id)s
)
INSERT INTO {StageChange._meta.db_table}
    (prospect_id, from_stage, to_stage, changed_by, reason, created_at)
VALUES (%(id)s, %(from)s, %(to)s, %(by)s, %(reason)s, %(now)s)
"""  # noqa: S608 - table names from the models


@transaction.atomic
def prospect_change_stage(
    *, prospect: Prospect, to_stage: str, changed_by: str, reason: str = ""
) -> Prospect:
    """Move a prospect to `to_stage`, enforcing the funnel and recording who did it.

    Locks the row so two workers cannot both move the same prospect from a stale
    stage. Moving to the current stage is a no-op (redelivered events are common).
    """
    row = fetch_row(_LOCK_SQL, [prospect.pk])
    if row is None:
        raise Prospect.DoesNotExist(f"prospect {prospect.pk} does not exist")
    from_stage, email, business_name = row
    if from_stage == to_stage:
        prospect.stage = to_stage
        return prospect
    if not stage_transition_allowed(from_stage=from_stage, to_stage=to_stage):
        raise InvalidStageTransition(f"{from_stage} → {to_stage} is not allowed")
    execute(
        _MOVE_SQL,
        {
            "id": prospect.pk,
            "from": from_stage,
            "to": to_stage,
            "by": changed_by[:128],
            "reason": reason[:500],
            "now": timezone.now(),
        },
    )
    prospect.stage = to_stage
    _publish_stage_change(
        {
            "prospect_id": prospect.pk,
            "email": email,
            "business_name": business_name,
            "from_stage": from_stage,
            "stage": to_stage,
            "changed_by": changed_by,
            "reason": reason,
        }
    )
    return prospect


# Stage changes integrators subscribe to by name, besides the generic one.
STAGE_WEBHOOK_EVENTS = {
    Stage.REPLIED: "prospect.replied",
    Stage.UNSUBSCRIBED: "prospect.unsubscribed",
    Stage.BOUNCED: "prospect.bounced",
}


def _publish_stage_change(data: dict[str, Any]) -> None:
    """Outbound webhooks, written in the stage change's transaction (sent on commit)."""
    webhooks_publish(event="prospect.stage_changed", data=data)
    if data["stage"] in STAGE_WEBHOOK_EVENTS:
        webhooks_publish(event=STAGE_WEBHOOK_EVENTS[data["stage"]], data=data)


def prospect_move_if_allowed(
    *, prospect: Prospect, to_stage: str, changed_by: str, reason: str = ""
) -> bool:
    """Move the prospect where the funnel allows it from the stage it has; False when
    it does not (a sent e-mail, a bounce or a reply moves a prospect only forward)."""
    if not stage_transition_allowed(from_stage=prospect.stage, to_stage=to_stage):
        return False
    prospect_change_stage(
        prospect=prospect, to_stage=to_stage, changed_by=changed_by, reason=reason
    )
    return True


def prospects_mark_lost(*, prospects: Iterable[Prospect], changed_by: str) -> int:
    """Mark each prospect lost where the funnel allows it; return how many moved."""
    return sum(
        prospect_move_if_allowed(prospect=prospect, to_stage=Stage.LOST, changed_by=changed_by)
        for prospect in prospects
    )


# Stages a prospect can be enriched from (again): the funnel lets each move to enriching.
ENRICHABLE_STAGES = frozenset(
    {Stage.NEW, Stage.ENRICHING, Stage.ENRICHED, Stage.READY, Stage.INVALID}
)


@dataclass
class EnqueueResult:
    queued: list[int] = field(default_factory=list)
    skipped: dict[int, str] = field(default_factory=dict)


def prospects_enqueue_enrichment(*, prospects: Iterable[Prospect]) -> EnqueueResult:
    """Emit `EnrichProspect` for each prospect whose stage still allows enrichment.

    Enrichment's actor does the work; asking for it is an event, so the admin, the
    API and the import command ask from here without importing enrichment.
    """
    result = EnqueueResult()
    for prospect in prospects:
        if prospect.stage not in ENRICHABLE_STAGES:
            result.skipped[prospect.pk] = f"stage is {prospect.stage}"
            continue
        emit("EnrichProspect", {"prospect_id": prospect.pk}, region=prospect_region(prospect))
        result.queued.append(prospect.pk)
    return result


def campaign_set_status(*, campaign: Campaign, status: str) -> Campaign:
    """Activate, pause, resume or finish a campaign."""
    if status not in Campaign.Status.values:
        raise ValueError(f"unknown campaign status {status!r}")
    campaign.status = status
    campaign.save(update_fields=["status", "updated_at"])
    return campaign


class ProspectConflict(ValueError):
    """Another prospect already has this e-mail address."""

    def __init__(self, email: str) -> None:
        super().__init__(f"a prospect with e-mail {email} already exists")


def _prospect_fields(row: Mapping[str, Any], source: str) -> dict[str, Any]:
    return {**{name: row[name] for name in UPSERT_FIELDS}, "source": row["source"] or source}


def prospect_create(*, data: Mapping[str, Any], source: str) -> Prospect:
    """Create one prospect from raw input; raise RowError (bad input) or ProspectConflict."""
    row = prospect_row_clean(data)
    if row["email"] and Prospect.objects.filter(email__iexact=row["email"]).exists():
        raise ProspectConflict(row["email"])
    try:
        with transaction.atomic():
            return Prospect.objects.create(**_prospect_fields(row, source))
    except IntegrityError:  # created concurrently since the check above
        raise ProspectConflict(row["email"]) from None


@transaction.atomic
def prospect_update(*, prospect: Prospect, data: Mapping[str, Any], changed_by: str) -> Prospect:
    """Set the given fields (blank values do clear them); `stage` goes through the funnel.

    The merged record is cleaned by the same rules as an import, so a patch can
    never store what a create would refuse.
    """
    fields = {name: value for name, value in data.items() if name != "stage"}
    current = {name: getattr(prospect, name) for name in (*UPSERT_FIELDS, "source")}
    row = prospect_row_clean({**current, **fields})
    if "website" not in fields and "email" not in fields:
        row["domain"] = prospect.domain  # keep what enrichment found
    changed = [name for name in (*UPSERT_FIELDS, "source") if getattr(prospect, name) != row[name]]
    for name in changed:
        setattr(prospect, name, row[name])
    if changed:
        try:
            with transaction.atomic():
                prospect.save(update_fields=[*changed, "updated_at"])
        except IntegrityError:
            raise ProspectConflict(row["email"]) from None
    if data.get("stage"):
        prospect_change_stage(prospect=prospect, to_stage=data["stage"], changed_by=changed_by)
        prospect.refresh_from_db(fields=["stage", "updated_at"])
    return prospect


@dataclass(frozen=True)
class BulkRowResult:
    index: int
    status: str  # created | updated | unchanged | error
    id: int | None = None
    reason: str = ""


def _bulk_clean(
    rows: Sequence[Any],
) -> tuple[list[BulkRowResult | None], list[int], list[dict[str, Any]]]:
    """Per-row errors, and the positions and cleaned rows that can be upserted."""
    results: list[BulkRowResult | None] = [None] * len(rows)
    positions: list[int] = []
    clean: list[dict[str, Any]] = []
    seen: dict[tuple[str, ...], int] = {}
    for index, raw in enumerate(rows):
        try:
            if not isinstance(raw, Mapping):
                raise RowError("a row must be an object")
            row = prospect_row_clean(raw)
        except RowError as exc:
            results[index] = BulkRowResult(index, "error", reason=str(exc))
            continue
        key = natural_key(row)
        if key in seen:
            results[index] = BulkRowResult(index, "error", reason=f"duplicate of row {seen[key]}")
            continue
        seen[key] = index
        positions.append(index)
        clean.append(row)
    return results, positions, clean


def prospects_bulk_upsert(*, rows: Sequence[Any], source: str) -> list[BulkRowResult]:
    """Upsert rows by natural key in one transaction; one result per row, in order.

    A bad row is reported with its reason and the others are still written.
    """
    results, positions, clean = _bulk_clean(rows)
    try:
        summary = prospects_upsert(rows=clean, source=source)
    except IntegrityError:  # a concurrent writer created one of the keys: match it now
        summary = prospects_upsert(rows=clean, source=source)
    for index, outcome in zip(positions, summary.outcomes, strict=True):
        results[index] = BulkRowResult(index, outcome.status, outcome.prospect.pk)
    return [result for result in results if result is not None]
