"""Every dashboard page and action, per role: Viewer reads, Sales works, Operator runs.

An account without a role (even one with staff status) sees nothing; each refusal
is a 403 and changes nothing.
"""

import uuid

import pytest
from django.test import Client

from jengu.events.models import Event
from jengu.redis_helpers import CircuitBreaker
from outreach.models import EmailMessage, InboundEmail
from tests.dashboard.conftest import outbound, reply
from tests.factories import EnrollmentFactory
from tests.roles import role_user

pytestmark = pytest.mark.django_db

ALL = {"Viewer", "Sales", "Operator"}
WORKERS = {"Sales", "Operator"}
OPERATORS = {"Operator"}
ROLES = [None, "Viewer", "Sales", "Operator"]


@pytest.fixture
def records():
    enrollment = EnrollmentFactory()
    sent = outbound(enrollment=enrollment, step=1)
    trace_id = uuid.uuid4()
    Event.objects.create(event_id=uuid.uuid4(), trace_id=trace_id, type="Test", status="recorded")
    return {
        "prospect": enrollment.prospect.id,
        "campaign": enrollment.campaign.id,
        "reply": reply(to=sent, label="other", needs_human=True).id,
        "trace": trace_id,
    }


PAGES = [
    ("/", ALL),
    ("/overview/panels/", ALL),
    ("/prospects/", ALL),
    ("/prospects/{prospect}/", ALL),
    ("/campaigns/", ALL),
    ("/campaigns/{campaign}/", ALL),
    ("/review/", ALL),
    ("/replies/", ALL),
    ("/replies/{reply}/", ALL),
    ("/inboxes/", ALL),
    ("/system/", OPERATORS),
    ("/system/traces/{trace}/", OPERATORS),
]


def signed_in(role: str | None, *, staff: bool = False) -> Client:
    client = Client()
    client.force_login(role_user(role, staff=staff))
    return client


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize(("path", "allowed"), PAGES)
def test_each_page_per_role(records, role, path, allowed):
    response = signed_in(role).get(path.format(**records))

    assert response.status_code == (200 if role in allowed else 403)


def test_staff_status_alone_opens_no_dashboard_page(records):
    client = signed_in(None, staff=True)

    for path, _ in PAGES:
        response = client.get(path.format(**records))
        assert response.status_code == 403
        assert "Ask an administrator to add you to the role" in response.content.decode()


@pytest.mark.parametrize("role", ROLES)
def test_approving_sends_only_for_sales_and_operators(role):
    message = outbound(enrollment=EnrollmentFactory(), step=1, status="pending_approval")

    response = signed_in(role).post(
        "/review/action/",
        {"action": "approve", "ids": [message.id], f"subject-{message.id}": "Edited"},
    )

    message.refresh_from_db()
    if role in WORKERS:
        assert response.status_code == 302
        assert (message.status, message.subject) == (EmailMessage.Status.QUEUED, "Edited")
    else:
        assert response.status_code == 403
        assert message.status == EmailMessage.Status.PENDING_APPROVAL
        assert message.subject != "Edited"


@pytest.mark.parametrize("role", ROLES)
def test_relabel_and_mark_handled_only_for_sales_and_operators(records, role):
    client = signed_in(role)

    relabel = client.post(f"/replies/{records['reply']}/relabel/", {"label": "interested"})
    handled = client.post("/replies/handled/", {"ids": [records["reply"]]})

    inbound = InboundEmail.objects.get(pk=records["reply"])
    if role in WORKERS:
        assert (relabel.status_code, handled.status_code) == (302, 302)
        assert (inbound.label, inbound.needs_human) == ("interested", False)
    else:
        assert (relabel.status_code, handled.status_code) == (403, 403)
        assert (inbound.label, inbound.needs_human) == ("other", True)


@pytest.mark.parametrize("role", ROLES)
def test_breaker_reset_only_for_operators(role):
    breaker = CircuitBreaker("smtp:1")
    breaker.open_for(60)

    response = signed_in(role).post("/system/breakers/smtp:1/reset/")

    if role in OPERATORS:
        assert response.status_code == 302
        assert breaker.state == "closed"
    else:
        assert response.status_code == 403
        assert breaker.state == "open"


def test_a_viewer_reads_the_review_queue_without_its_buttons():
    outbound(enrollment=EnrollmentFactory(), step=1, status="pending_approval")

    page = signed_in("Viewer").get("/review/").content.decode()

    assert 'id="review-read-only"' in page
    assert 'value="approve"' not in page


def test_the_menu_shows_only_what_the_role_may_open():
    viewer_page = signed_in("Viewer").get("/").content.decode()
    operator_page = signed_in("Operator").get("/").content.decode()

    assert "/system/" not in viewer_page
    assert "/system/" in operator_page
