"""Dashboard pages: who may see them, filters, timeline, review and relabel actions."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from crm.models import Stage
from crm.services import prospect_change_stage
from jengu.events.models import Event
from jengu.redis_helpers import CircuitBreaker
from outreach.models import EmailMessage
from tests.dashboard.conftest import outbound, reply
from tests.factories import CampaignFactory, EnrollmentFactory, ProspectFactory
from tests.roles import role_user

pytestmark = pytest.mark.django_db

SALES_PAGES = [
    "/",
    "/overview/panels/",
    "/prospects/",
    "/campaigns/",
    "/review/",
    "/replies/",
    "/inboxes/",
]


@pytest.fixture
def sales(client):
    client.force_login(role_user("Sales", username="sam"))
    return client


@pytest.fixture
def staff(client):
    client.force_login(role_user("Operator", username="ops"))
    return client


@pytest.mark.parametrize("path", [*SALES_PAGES, "/system/"])
def test_pages_need_a_login(client, path):
    response = client.get(path)

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


@pytest.mark.parametrize("path", SALES_PAGES)
def test_sales_user_sees_sales_pages(sales, path):
    assert sales.get(path).status_code == 200


def test_system_pages_and_breaker_reset_need_the_operator_role(sales):
    assert sales.get("/system/").status_code == 403
    assert sales.post("/system/breakers/xai:1/reset/").status_code == 403


def test_staff_resets_an_open_breaker(staff):
    breaker = CircuitBreaker("xai:1")
    breaker.open_for(60)

    response = staff.post("/system/breakers/xai:1/reset/")

    assert response.status_code == 302
    assert breaker.state == "closed"


def test_prospects_filter_by_stage_country_campaign_and_search(sales):
    campaign = CampaignFactory()
    lisbon = ProspectFactory(business_name="Casa Azul", country="PT", stage=Stage.READY)
    ProspectFactory(business_name="Maison Rose", country="FR", stage=Stage.READY)
    ProspectFactory(business_name="Casa Verde", country="PT", stage=Stage.NEW)
    EnrollmentFactory(prospect=lisbon, campaign=campaign)

    def names(**params):
        page = sales.get("/prospects/", params).context["page"]
        return [p.business_name for p in page.rows]

    assert names(stage="ready", country="pt") == ["Casa Azul"]
    assert names(q="casa") == ["Casa Verde", "Casa Azul"]
    assert names(q=lisbon.email.upper()) == ["Casa Azul"]
    assert names(campaign=campaign.id) == ["Casa Azul"]
    assert names(stage="not-a-stage") == ["Casa Verde", "Maison Rose", "Casa Azul"]


def test_prospects_page_through_with_a_keyset_cursor(sales):
    ProspectFactory.create_batch(55)

    first = sales.get("/prospects/").context["page"]
    second = sales.get("/prospects/", {"before": first.next_cursor}).context["page"]

    assert len(first.rows) == 50 and first.next_cursor == first.rows[-1].id
    assert len(second.rows) == 5 and second.next_cursor is None
    assert {p.id for p in first.rows}.isdisjoint(p.id for p in second.rows)


def test_prospect_timeline_tells_the_whole_story(sales):
    enrollment = EnrollmentFactory()
    prospect = enrollment.prospect
    prospect_change_stage(prospect=prospect, to_stage=Stage.READY, changed_by="import")
    sent = outbound(enrollment=enrollment, step=1)
    reply(to=sent, label="interested")
    trace_id = uuid.uuid4()
    Event.objects.create(
        event_id=uuid.uuid4(),
        trace_id=trace_id,
        type="EnrichProspect",
        status="succeeded",
        payload={"prospect_id": prospect.id},
    )

    response = sales.get(f"/prospects/{prospect.id}/")

    kinds = [item.kind for item in response.context["timeline"]]
    assert sorted(kinds) == ["created", "event", "out", "reply", "stage"]
    assert f"/system/traces/{trace_id}/" in response.content.decode()


def test_review_approves_edited_and_rejects_in_bulk(sales):
    e1, e2 = EnrollmentFactory(), EnrollmentFactory()
    m1 = outbound(enrollment=e1, step=1, status="pending_approval")
    m2 = outbound(enrollment=e2, step=1, status="pending_approval")

    sales.post(
        "/review/action/",
        {
            "action": "approve",
            "ids": [m1.id],
            f"subject-{m1.id}": "Better subject",
            f"body-{m1.id}": "Better body",
        },
    )
    sales.post("/review/action/", {"action": "reject", "ids": [m2.id], "reason": "not a fit"})

    m1.refresh_from_db()
    m2.refresh_from_db()
    assert (m1.status, m1.subject, m1.body, m1.reviewed_by) == (
        EmailMessage.Status.QUEUED,
        "Better subject",
        "Better body",
        "user:sam",
    )
    assert (m2.status, m2.review_note) == (EmailMessage.Status.REJECTED, "not a fit")
    e2.refresh_from_db()
    assert e2.status == "stopped"


def test_review_of_an_already_handled_message_changes_nothing(sales):
    message = outbound(enrollment=EnrollmentFactory(), step=1, status="sent")

    response = sales.post("/review/action/", {"action": "reject", "ids": [message.id]}, follow=True)

    message.refresh_from_db()
    assert message.status == "sent"
    assert "already handled" in response.content.decode()


def test_relabel_keeps_the_correction(sales):
    inbound = reply(to=outbound(enrollment=EnrollmentFactory(), step=1), label="other")

    sales.post(f"/replies/{inbound.id}/relabel/", {"label": "interested"})

    inbound.refresh_from_db()
    assert (inbound.label, inbound.method, inbound.label_corrected_by) == (
        "interested",
        "manual",
        "user:sam",
    )
    assert sales.get("/replies/", {"label": "interested"}).context["rows"] == [inbound]


def test_overview_needs_human_lists_interested_before_other(sales):
    sent = outbound(enrollment=EnrollmentFactory(), step=1)
    other = reply(to=sent, label="other", needs_human=True)
    interested = reply(to=sent, label="interested", needs_human=True)

    rows = sales.get("/").context["needs_human"]

    assert rows == [interested, other]


def test_the_country_list_is_one_cached_read_shared_with_the_admin_filter(sales, admin_client):
    ProspectFactory(country="PT")
    ProspectFactory(country="FR")
    ProspectFactory(country="")

    assert sales.get("/prospects/").context["countries"] == ["FR", "PT"]
    with CaptureQueriesContext(connection) as captured:
        admin_client.get(reverse("admin:crm_prospect_changelist"))

    distinct = [query["sql"] for query in captured.captured_queries if "DISTINCT" in query["sql"]]
    assert distinct and not any('"country"' in sql for sql in distinct)


@pytest.mark.parametrize(
    "path",
    [
        "/prospects/?before=²",
        "/prospects/?campaign=²",
        "/prospects/?before=99999999999999999999",
        "/replies/?before=-1",
        "/replies/?campaign=1x",
    ],
)
def test_an_unreadable_cursor_or_id_is_a_400(sales, path):
    response = sales.get(path)

    assert response.status_code == 400
    assert "must be a positive whole number" in response.content.decode()


def test_ticked_ids_that_are_not_numbers_are_a_400_and_change_nothing(sales):
    message = outbound(enrollment=EnrollmentFactory(), step=1, status="pending_approval")

    response = sales.post("/review/action/", {"action": "approve", "ids": [message.id, "²"]})

    assert response.status_code == 400
    message.refresh_from_db()
    assert message.status == EmailMessage.Status.PENDING_APPROVAL


def test_a_trace_address_that_is_not_a_uuid_is_a_404(staff):
    assert staff.get("/system/traces/not-a-uuid/").status_code == 404


@pytest.mark.parametrize("value", ["a/b", "not-a-uuid", "../admin/"])
def test_opening_a_trace_by_an_unreadable_id_is_a_400(staff, value):
    response = staff.get("/system/", {"trace": value})

    assert response.status_code == 400


def test_opening_a_trace_by_id_redirects_to_its_page(staff):
    trace_id = uuid.uuid4()

    response = staff.get("/system/", {"trace": f" {trace_id} "})

    assert response.status_code == 302
    assert response["Location"] == f"/system/traces/{trace_id}/"
