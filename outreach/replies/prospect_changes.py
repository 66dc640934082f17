"""The changes a reply or report makes to a prospect, shared by every label's effects.

Each is safe to apply twice: updates are fenced on the state they change, a stage
move to the current stage is a no-op, and suppression keeps its first entry.
"""

from __future__ import annotations

from django.utils import timezone

from crm.enrollments import enrollments_stop
from crm.models import Prospect, Stage
from crm.services import prospect_move_if_allowed, stage_transition_allowed
from outreach.models import Suppression
from outreach.suppression import suppression_add

CHANGED_BY = "actor:InboundEmail"
# A later reply never moves a prospect back from these to "replied".
AHEAD = frozenset({Stage.MEETING, Stage.WON})


def stage_move(prospect: Prospect, to_stage: str, reason: str) -> str:
    prospect.refresh_from_db(fields=["stage"])
    if prospect.stage == to_stage or (to_stage == Stage.REPLIED and prospect.stage in AHEAD):
        return f"stage kept at {prospect.stage}"
    if not stage_transition_allowed(from_stage=prospect.stage, to_stage=to_stage):
        # A reply from someone we never marked contacted: the e-mail did reach them.
        prospect_move_if_allowed(
            prospect=prospect, to_stage=Stage.CONTACTED, changed_by=CHANGED_BY, reason=reason
        )
    moved = prospect_move_if_allowed(
        prospect=prospect, to_stage=to_stage, changed_by=CHANGED_BY, reason=reason
    )
    return f"stage → {to_stage}" if moved else f"stage kept at {prospect.stage}"


def address_suppress(address: str, reason: str) -> str:
    suppression_add(value=address, kind=Suppression.Kind.EMAIL, reason=reason, source="reply")
    return f"{address} suppressed ({reason})"


def prospect_stop(
    prospect: Prospect, *, to_stage: str, reason: str, email_status: str = ""
) -> list[str]:
    """Mark the address (optionally), stop every sequence and move the stage."""
    done = []
    if email_status:
        Prospect.objects.filter(pk=prospect.pk).update(
            email_status=email_status, updated_at=timezone.now()
        )
        done.append(f"e-mail status → {email_status}")
    stopped = enrollments_stop(prospect=prospect, reason=reason)
    return [*done, f"{stopped} sequence(s) stopped", stage_move(prospect, to_stage, reason)]
