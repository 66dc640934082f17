"""Stage changes go through one service that enforces the funnel and records who."""

import pytest

from crm.models import Stage, StageChange
from crm.services import InvalidStageTransition, prospect_change_stage, prospects_mark_lost
from tests.factories import ProspectFactory

pytestmark = pytest.mark.django_db


def test_allowed_transition_is_applied_and_recorded():
    prospect = ProspectFactory(stage=Stage.NEW)

    prospect_change_stage(
        prospect=prospect, to_stage=Stage.ENRICHING, changed_by="actor:enrich", reason="import"
    )

    prospect.refresh_from_db()
    assert prospect.stage == Stage.ENRICHING
    change = StageChange.objects.get(prospect=prospect)
    assert (change.from_stage, change.to_stage, change.changed_by, change.reason) == (
        Stage.NEW,
        Stage.ENRICHING,
        "actor:enrich",
        "import",
    )


@pytest.mark.parametrize(
    ("from_stage", "to_stage"),
    [
        (Stage.NEW, Stage.REPLIED),
        (Stage.UNSUBSCRIBED, Stage.READY),
        (Stage.BOUNCED, Stage.CONTACTED),
        (Stage.WON, Stage.NEW),
    ],
)
def test_forbidden_transition_raises_and_records_nothing(from_stage, to_stage):
    prospect = ProspectFactory(stage=from_stage)

    with pytest.raises(InvalidStageTransition, match=f"{from_stage} → {to_stage}"):
        prospect_change_stage(prospect=prospect, to_stage=to_stage, changed_by="user:test")

    prospect.refresh_from_db()
    assert prospect.stage == from_stage
    assert not StageChange.objects.exists()


def test_same_stage_is_a_no_op_for_redelivered_events():
    prospect = ProspectFactory(stage=Stage.CONTACTED)
    prospect_change_stage(prospect=prospect, to_stage=Stage.CONTACTED, changed_by="actor:send")
    assert not StageChange.objects.exists()


def test_any_live_stage_can_unsubscribe_and_terminal_stages_stay():
    live = ProspectFactory(stage=Stage.REPLIED)
    prospect_change_stage(prospect=live, to_stage=Stage.UNSUBSCRIBED, changed_by="actor:reply")
    live.refresh_from_db()
    assert live.stage == Stage.UNSUBSCRIBED


def test_mark_lost_skips_prospects_that_cannot_be_lost():
    movable = ProspectFactory(stage=Stage.CONTACTED)
    terminal = ProspectFactory(stage=Stage.UNSUBSCRIBED)

    moved = prospects_mark_lost(prospects=[movable, terminal], changed_by="user:ops")

    assert moved == 1
    movable.refresh_from_db()
    terminal.refresh_from_db()
    assert (movable.stage, terminal.stage) == (Stage.LOST, Stage.UNSUBSCRIBED)
