"""The admin action, the findings on the prospect page and `manage.py enrich_prospects`."""

from io import StringIO

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.management import CommandError, call_command
from django.urls import reverse

from crm.models import Stage
from jengu.events.models import Event
from tests.factories import ProspectFactory

pytestmark = pytest.mark.django_db


def enrich_events() -> list[int]:
    return sorted(e.payload["prospect_id"] for e in Event.objects.filter(type="EnrichProspect"))


def test_admin_action_queues_enrichment_and_says_what_it_skipped(admin_client):
    fresh, won = ProspectFactory(), ProspectFactory(stage=Stage.WON)
    response = admin_client.post(
        reverse("admin:crm_prospect_changelist"),
        {"action": "enrich_selected", ACTION_CHECKBOX_NAME: [fresh.pk, won.pk]},
        follow=True,
    )
    assert "Queued 1 prospects for enrichment" in response.content.decode()
    assert "1 skipped" in response.content.decode()
    assert enrich_events() == [fresh.pk]


def test_prospect_page_shows_findings_escaped(admin_client):
    prospect = ProspectFactory(
        enrichment={
            "summary": "website found",
            "website": {
                "url": "http://casaazul.pt/",
                "method": "guess",
                "confidence": 0.8,
                "evidence": "<script>alert(1)</script>",
            },  # fmt: skip
            "candidates": [
                {
                    "email": "ana@casaazul.pt",
                    "kind": "personal",
                    "source": "mailto",
                    "page": "http://casaazul.pt/contact/",
                    "score": 90,
                }
            ],  # fmt: skip
            "validation": {"ana@casaazul.pt": {"status": "valid", "reason": "MillionVerifier: ok"}},
            "rejected": [{"email": "x@booking.com", "page": "", "reason": "not on casaazul.pt"}],
            "chosen": {"email": "ana@casaazul.pt", "status": "valid", "reason": "ok"},
        }
    )
    page = admin_client.get(reverse("admin:crm_prospect_change", args=[prospect.pk]))
    html = page.content.decode()
    assert "found by guess (confidence 0.8)" in html
    assert "MillionVerifier: ok" in html
    assert "not on casaazul.pt" in html
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_command_queues_by_stage_and_limit():
    new = [ProspectFactory() for _ in range(3)]
    ProspectFactory(stage=Stage.READY)
    out = StringIO()
    call_command("enrich_prospects", "--limit", "2", stdout=out)
    assert out.getvalue().strip() == "Queued 2 prospects for enrichment (0 skipped)."
    assert enrich_events() == sorted(p.pk for p in new)[:2]


@pytest.mark.parametrize(
    ("args", "message"),
    [(["--stage", "won"], "cannot be enriched"), (["--limit", "0"], "positive")],
)
def test_command_refuses_bad_arguments(args, message):
    with pytest.raises(CommandError, match=message):
        call_command("enrich_prospects", *args)
