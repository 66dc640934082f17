"""ComposeEmail through a real Dramatiq worker on the Redis broker."""

import dramatiq
import pytest

from crm.models import Enrollment, Stage
from jengu.bus import emit
from jengu.events.models import DeadLetter, Event
from outreach.models import AICall, EmailMessage
from tests.factories import CampaignStepFactory, EnrollmentFactory, ProspectFactory
from tests.outreach.conftest import send_email_events

pytestmark = pytest.mark.usefixtures("ai_state_clean")


@pytest.fixture
def compose_worker(transactional_db, settings):
    settings.XAI_API_KEYS = []
    settings.ANTHROPIC_API_KEY = ""
    broker = dramatiq.get_broker()
    broker.flush_all()
    worker = dramatiq.Worker(broker, queues={"compose"}, worker_timeout=100, worker_threads=2)
    worker.start()

    def run(*events: dict) -> None:
        for payload in events:
            emit("ComposeEmail", payload)
        broker.join("compose", timeout=30000)
        worker.join()

    yield run
    worker.stop()
    broker.flush_all()


def enrollment_with_step(**step_fields):
    step = CampaignStepFactory(order=1, **step_fields)
    enrollment = EnrollmentFactory(prospect=ProspectFactory(), campaign=step.campaign)
    return enrollment, {"enrollment_id": enrollment.pk, "step": 1}


def test_compose_event_writes_the_message_and_hands_it_to_the_sender(compose_worker):
    enrollment, payload = enrollment_with_step()

    compose_worker(payload)

    message = EmailMessage.objects.get(enrollment=enrollment)
    assert (message.status, message.provider) == (EmailMessage.Status.QUEUED, "template")
    assert send_email_events() == [{"message_id": message.pk}]
    assert dramatiq.get_broker().do_qsize("send") == 1
    compose_event = Event.objects.get(type="ComposeEmail")
    assert AICall.objects.get().trace_id == str(compose_event.trace_id)


def test_a_repeated_compose_event_writes_one_message_and_re_emits_send(compose_worker):
    enrollment, payload = enrollment_with_step()

    compose_worker(payload, payload)

    message = EmailMessage.objects.get(enrollment=enrollment)
    assert send_email_events() == [{"message_id": message.pk}] * 2


def test_ineligible_prospect_ends_quietly_without_dead_letter(compose_worker):
    enrollment, payload = enrollment_with_step()
    enrollment.prospect.stage = Stage.UNSUBSCRIBED
    enrollment.prospect.save()

    compose_worker(payload)

    enrollment.refresh_from_db()
    assert enrollment.status == Enrollment.Status.STOPPED
    assert not EmailMessage.objects.exists()
    assert not DeadLetter.objects.exists()
    assert send_email_events() == []


def test_a_broken_template_goes_to_dead_letters_without_retries(compose_worker):
    enrollment, payload = enrollment_with_step(body_template="{% if %}")

    compose_worker(payload)

    dead = DeadLetter.objects.get()
    assert (dead.event_type, dead.classification, dead.attempts) == (
        "ComposeEmail",
        "invalid_data",
        1,
    )
    assert "step template does not render" in dead.exception_message


def test_a_template_over_a_limit_is_a_dead_letter_that_names_the_limit(compose_worker):
    enrollment, payload = enrollment_with_step(body_template='{{ city|ljust:"5000000" }}')

    compose_worker(payload)

    dead = DeadLetter.objects.get()
    assert dead.classification == "invalid_data"
    assert "step template (body) is over a limit: filter ljust" in dead.exception_message
    assert not EmailMessage.objects.exists()


def test_a_malformed_deadline_is_computed_afresh(compose_worker):
    enrollment, payload = enrollment_with_step()

    compose_worker({**payload, "deadline": "next tuesday"})

    assert EmailMessage.objects.get(enrollment=enrollment).status == EmailMessage.Status.QUEUED
    assert not DeadLetter.objects.exists()
