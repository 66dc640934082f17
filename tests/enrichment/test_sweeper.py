"""The sweeper re-emits enrichment work a lost queue message left undone."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm.models import Prospect, Stage
from enrichment.sweeper import enrichment_stuck_sweep
from jengu.events.models import Event
from tests.factories import ProspectFactory

pytestmark = pytest.mark.django_db


def age(prospect, minutes: int) -> None:
    Prospect.objects.filter(pk=prospect.pk).update(
        updated_at=timezone.now() - timedelta(minutes=minutes)
    )


def payloads(event_type: str) -> list[dict]:
    return [e.payload for e in Event.objects.filter(type=event_type).order_by("created_at")]


def test_prospects_stuck_in_enriching_are_enriched_again(settings):
    settings.ENRICHMENT_STUCK_AFTER_MINUTES = 15
    stuck, busy = ProspectFactory(stage=Stage.ENRICHING), ProspectFactory(stage=Stage.ENRICHING)
    age(stuck, 16)
    age(busy, 2)
    report = enrichment_stuck_sweep()
    assert report.enrich == [stuck.pk]
    assert payloads("EnrichProspect") == [{"prospect_id": stuck.pk}]


def test_missing_verdicts_are_asked_for_again(settings):
    settings.ENRICHMENT_STUCK_AFTER_MINUTES = 15
    waiting = ProspectFactory(
        stage=Stage.ENRICHED,
        enrichment={"to_validate": ["a@h.pt", "b@h.pt"], "validation": {"a@h.pt": {}}},
    )
    decided = ProspectFactory(
        stage=Stage.ENRICHED, enrichment={"to_validate": ["c@h.pt"], "chosen": {"email": ""}}
    )
    nothing_found = ProspectFactory(stage=Stage.ENRICHED, enrichment={"to_validate": []})
    for prospect in (waiting, decided, nothing_found):
        age(prospect, 30)
    report = enrichment_stuck_sweep()
    assert report.validate == [(waiting.pk, "b@h.pt")]
    assert payloads("ValidateEmail") == [{"prospect_id": waiting.pk, "email": "b@h.pt"}]
