"""The reply stage through a real Dramatiq worker on the Redis broker: a webhook POST
becomes a processed reply; malformed MIME lands in dead letters with the raw kept."""

from __future__ import annotations

import dramatiq
import pytest

from crm.models import Enrollment, Stage
from jengu.events.models import DeadLetter
from outreach.models import InboundEmail
from tests.outreach.replies_fixtures import eml

SECRET = "worker-test-secret"


@pytest.fixture
def reply_worker(transactional_db, settings):
    settings.INBOUND_WEBHOOK_SECRET = SECRET
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, queues={"reply"}, worker_timeout=100, worker_threads=2)
    worker.start()

    def drain() -> None:
        broker.join("reply", timeout=30000)
        worker.join()

    yield drain
    worker.stop()
    broker.flush_all()


def _post(client, raw: bytes):
    response = client.post(
        "/webhooks/inbound/raw",
        data=raw,
        content_type="message/rfc822",
        HTTP_AUTHORIZATION=f"Bearer {SECRET}",
    )
    assert response.status_code == 202
    return response.json()["id"]


def test_a_posted_reply_is_processed_by_the_worker_and_stops_the_sequence(
    reply_worker, contact, client
):
    juergen = contact("juergen@hotel-berlin.example", "<step1.juergen@jengu.example>")

    inbound_id = _post(client, eml("german_meeting.eml"))
    reply_worker()

    inbound = InboundEmail.objects.get(pk=inbound_id)
    assert (inbound.status, inbound.label, inbound.needs_human) == ("processed", "meeting", True)
    juergen.enrollment.refresh_from_db()
    juergen.prospect.refresh_from_db()
    assert juergen.enrollment.status == Enrollment.Status.REPLIED
    assert juergen.prospect.stage == Stage.REPLIED
    assert not DeadLetter.objects.exists()


def test_malformed_mime_goes_to_dead_letters_once_and_the_raw_message_stays(
    reply_worker, contact, client
):
    raw = eml("malformed_not_email.eml")

    inbound_id = _post(client, raw)
    reply_worker()

    dead = DeadLetter.objects.get()
    assert (dead.event_type, dead.classification, dead.attempts) == (
        "InboundEmail",
        "invalid_data",
        1,  # invalid data is never retried
    )
    assert dead.args == {"inbound_id": inbound_id}
    inbound = InboundEmail.objects.get(pk=inbound_id)
    assert inbound.status == "failed" and bytes(inbound.raw) == raw
