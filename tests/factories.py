"""factory_boy factories shared by the test suite."""

import factory
from django.utils import timezone

from crm.models import Campaign, CampaignStep, Enrollment, Inbox, Prospect
from jengu.bus.envelope import Envelope
from jengu.events.models import DeadLetter


class ProspectFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Prospect

    business_name = factory.Sequence(lambda n: f"Hotel Example {n}")
    contact_name = "Anna Berg"
    email = factory.Sequence(lambda n: f"anna{n}@hotel{n}.example")
    city = "Lisbon"
    country = "PT"
    timezone = "Europe/Lisbon"


class InboxFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Inbox

    email = factory.Sequence(lambda n: f"sales{n}@jengu.example")
    display_name = "Jengu Sales"
    smtp_host = "127.0.0.1"
    smtp_port = 2525
    smtp_security = Inbox.Security.NONE


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    status = Campaign.Status.ACTIVE
    window_days = [0, 1, 2, 3, 4, 5, 6]
    window_start_hour = 0
    window_end_hour = 24
    sender_postal_address = "Jengu Ltd, 1 Main Street, Lisbon, Portugal"


class CampaignStepFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CampaignStep

    campaign = factory.SubFactory(CampaignFactory)
    order = factory.Sequence(lambda n: n + 1)
    delay_days = 0
    subject_template = "A question for {{ business_name }}"
    body_template = "Hi {{ contact_first_name }},\n\nShort note about {{ business_name }}."


class EnrollmentFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enrollment

    prospect = factory.SubFactory(ProspectFactory)
    campaign = factory.SubFactory(CampaignFactory)


def webhook_dead_letter() -> DeadLetter:
    """A failed `DeliverWebhook`, as the dead-letter middleware records one."""
    now = timezone.now()
    envelope = Envelope.new("DeliverWebhook", parent=None, source="test")
    return DeadLetter.objects.create(
        event_id=envelope.event_id,
        trace_id=envelope.trace_id,
        event_type="DeliverWebhook",
        queue="track",
        actor="deliver_webhook",
        envelope=envelope.as_dict(),
        args={"delivery_id": 1},
        exception_type="TimeoutError",
        classification="transient",
        attempts=3,
        first_failed_at=now,
        last_failed_at=now,
    )
