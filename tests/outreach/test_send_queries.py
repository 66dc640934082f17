"""SQL statements per send, counted (deterministic, unlike timings). Savepoints are left
out: their number depends on the transaction the test runs in, not on the sender."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from crm.models import Enrollment
from jengu.region_config import parse_regions
from outreach.models import EmailMessage
from outreach.sending.services import message_send
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]

# load, suppression, inboxes, fence, and the sent record (message, inbox and
# enrollment in one statement); the first step adds the stage change (lock, history
# row with the update, webhooks), a follow-up the lookup of the thread it continues,
# and EmailSent's log row and webhooks lookup come with every send.
FIRST_STEP_MAX = 10
FOLLOW_UP_MAX = 8


def statements(context: CaptureQueriesContext) -> list[str]:
    return [
        q["sql"]
        for q in context.captured_queries
        if not q["sql"].startswith(("SAVEPOINT", "RELEASE SAVEPOINT"))
    ]


def send_counted(message: EmailMessage) -> list[str]:
    message = EmailMessage.objects.get(pk=message.pk)  # what the actor hands over
    with CaptureQueriesContext(connection) as context:
        assert message_send(message=message).status == "sent"
    return statements(context)


@pytest.fixture
def campaign(smtp_sink):
    campaign = make_campaign([make_inbox(smtp_sink)], steps=(0, 0))
    message_send(message=queue_message(make_enrollment(campaign)))  # today's counters exist
    return campaign


def test_a_first_step_send_stays_within_its_query_budget(campaign):
    sql = send_counted(queue_message(make_enrollment(campaign)))

    assert len(sql) <= FIRST_STEP_MAX, "\n".join(sql)


def test_a_follow_up_send_stays_within_its_query_budget(campaign):
    enrollment = make_enrollment(campaign)
    send_counted(queue_message(enrollment))
    enrollment.refresh_from_db()

    sql = send_counted(queue_message(enrollment, step=2))

    assert len(sql) <= FOLLOW_UP_MAX, "\n".join(sql)
    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.FINISHED


def test_with_regions_a_send_costs_no_extra_statement(campaign, settings):
    plain = send_counted(queue_message(make_enrollment(campaign)))
    # The region comes from the prospect the send loads anyway; the rotation's region
    # filter is part of its one statement.
    settings.JENGU_REGIONS = parse_regions("us-east,eu-west")
    regional = send_counted(queue_message(make_enrollment(campaign, timezone="Europe/Paris")))

    assert len(regional) == len(plain), "\n".join(regional)
