"""A person using the dashboard in a real browser."""

import uuid

import pytest
from django.utils import timezone

from crm.models import Prospect, Stage
from jengu.events.models import Event
from jengu.redis_helpers import CircuitBreaker
from outreach.dashboard.rollups import daily_stats_rollup
from tests.dashboard.conftest import outbound, reply
from tests.factories import EnrollmentFactory, ProspectFactory

pytestmark = pytest.mark.slow


def test_overview_panels_show_the_database_numbers_and_refresh_live(page, live_server):
    for stage, n in [(Stage.NEW, 3), (Stage.READY, 2), (Stage.CONTACTED, 1)]:
        ProspectFactory.create_batch(n, stage=stage)
    sent = outbound(enrollment=EnrollmentFactory(), step=1)
    reply(to=sent, label="interested", needs_human=True)
    daily_stats_rollup(day=timezone.localdate())

    page.goto(live_server.url + "/")

    total = Prospect.objects.count()
    assert page.inner_text("[data-value=funnel-1]") == str(total)
    assert page.inner_text("[data-value=funnel-3]") == str(
        Prospect.objects.filter(stage__in=[Stage.READY, Stage.CONTACTED]).count()
    )
    assert page.inner_text("[data-value=sent-30d]") == "1"
    assert page.inner_text("[data-value=replied-30d]") == "1"
    assert "interested" in page.inner_text("[data-panel=needs-human]")
    assert page.locator("svg.chart polyline").count() == 3

    page.evaluate("window.notReloaded = true")
    outbound(enrollment=EnrollmentFactory(), step=1)
    daily_stats_rollup(day=timezone.localdate())
    page.wait_for_function(
        "document.querySelector('[data-value=sent-30d]').innerText === '2'", timeout=12_000
    )
    assert page.evaluate("window.notReloaded") is True


def test_filter_prospects_and_open_a_timeline(page, live_server):
    target = ProspectFactory(business_name="Casa Azul Lisboa", country="PT", stage=Stage.READY)
    ProspectFactory(business_name="Maison Rose", country="FR", stage=Stage.READY)
    ProspectFactory(business_name="Casa Verde", country="PT", stage=Stage.NEW)
    outbound(enrollment=EnrollmentFactory(prospect=target), step=1)

    page.goto(live_server.url + "/prospects/")
    page.select_option("select[name=stage]", "ready")
    page.select_option("select[name=country]", "PT")
    page.click("#prospect-filters button[type=submit]")
    page.wait_for_url("**stage=ready**")

    rows = page.locator("#prospect-table tr[data-prospect]")
    assert rows.count() == 1
    page.click("text=Casa Azul Lisboa")

    page.wait_for_url(f"**/prospects/{target.id}/")
    timeline = page.inner_text("#timeline")
    assert "E-mail out (sent, step 1)" in timeline
    assert "Added" in timeline


def test_open_a_trace_by_id(page, live_server):
    trace_id = uuid.uuid4()
    root = Event.objects.create(
        event_id=uuid.uuid4(),
        trace_id=trace_id,
        type="EnrichProspect",
        queue="enrich",
        status="succeeded",
        duration_ms=41,
    )
    Event.objects.create(
        event_id=uuid.uuid4(),
        trace_id=trace_id,
        parent_id=root.event_id,
        type="ValidateEmail",
        queue="validate",
        status="dead",
        error="PermanentError: 550",
    )

    page.goto(live_server.url + "/system/")
    page.fill("#trace-input", str(trace_id))
    page.click("text=Open trace")

    page.wait_for_url(f"**/system/traces/{trace_id}/")
    tree = page.inner_text("#trace-tree")
    assert "EnrichProspect" in tree and "41 ms" in tree
    assert "ValidateEmail" in tree and "PermanentError: 550" in tree
    child = page.locator("#trace-tree li li")
    assert child.count() == 1


def test_staff_resets_an_open_breaker(page, live_server):
    CircuitBreaker("xai:1").open_for(120)

    page.goto(live_server.url + "/system/")
    row = page.locator("tr[data-breaker='xai:1']")
    assert "open" in row.inner_text()
    row.locator("text=Reset").click()

    page.wait_for_selector("text=Circuit breaker xai:1 reset.")
    assert CircuitBreaker("xai:1").state == "closed"
    assert "closed" in page.locator("tr[data-breaker='xai:1']").inner_text()
