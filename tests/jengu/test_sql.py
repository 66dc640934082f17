"""jengu/sql.py builds model instances from plain-SQL rows as the ORM does;
UrlconfPreload loads the URLconf when a worker boots."""

import dramatiq
import pytest
from django.urls import clear_url_caches, get_resolver

from crm.models import Campaign, Enrollment, Inbox, Prospect
from jengu.sql import execute, fetch_row, instance_with_related, row_instances, select_list
from jengu.workers import UrlconfPreload
from outreach.models import EmailMessage
from tests.factories import EnrollmentFactory, InboxFactory, ProspectFactory

pytestmark = pytest.mark.django_db


def columns(*pairs) -> str:
    return ", ".join(select_list(model, alias) for model, alias in pairs)


def load_message(pk: int) -> tuple[EmailMessage | None, Inbox | None]:
    """A message and its inbox (if any) through one LEFT JOIN."""
    sql = f"""
        SELECT {columns((EmailMessage, "m"), (Inbox, "i"))} FROM outreach_emailmessage m
        LEFT JOIN crm_inbox i ON i.id = m.inbox_id WHERE m.id = %s
    """  # noqa: S608 - columns from the models
    return row_instances(fetch_row(sql, [pk]), [EmailMessage, Inbox])


def message(**fields) -> EmailMessage:
    return EmailMessage.objects.create(
        direction=EmailMessage.Direction.OUTBOUND, status=EmailMessage.Status.QUEUED, **fields
    )


def assert_same_as_orm(instance, model) -> None:
    expected = model.objects.get(pk=instance.pk)
    for field in model._meta.concrete_fields:
        assert getattr(instance, field.attname) == getattr(expected, field.attname), field.name


def test_one_row_splits_into_instances_equal_to_the_orms():
    """Three models from one row come out field-for-field as `objects.get` returns
    them: JSON columns parsed into lists/dicts and the array column a list."""
    enrollment = EnrollmentFactory(
        prospect=ProspectFactory(tags=["spa", "boutique"], enrichment={"rooms": 12, "x": [1]}),
        campaign__window_days=[0, 2, 4],
    )
    sql = f"""
        SELECT {columns((Enrollment, "e"), (Prospect, "p"), (Campaign, "c"))}
        FROM crm_enrollment e JOIN crm_prospect p ON p.id = e.prospect_id
        JOIN crm_campaign c ON c.id = e.campaign_id WHERE e.id = %s
    """  # noqa: S608 - columns from the models

    loaded, prospect, campaign = row_instances(
        fetch_row(sql, [enrollment.pk]), [Enrollment, Prospect, Campaign]
    )

    assert (loaded.pk, prospect.pk, campaign.pk) == (
        enrollment.pk,
        enrollment.prospect_id,
        enrollment.campaign_id,
    )
    assert prospect.tags == ["spa", "boutique"]
    assert prospect.enrichment == {"rooms": 12, "x": [1]}
    assert campaign.window_days == [0, 2, 4]
    for instance, model in [(loaded, Enrollment), (prospect, Prospect), (campaign, Campaign)]:
        assert_same_as_orm(instance, model)


def test_encrypted_password_is_decrypted():
    """The column holds ciphertext; the loaded Inbox holds the plain password."""
    inbox = InboxFactory(smtp_password="hunter2-secret")

    _, loaded = load_message(message(inbox=inbox).pk)

    assert fetch_row("SELECT smtp_password FROM crm_inbox WHERE id = %s", [inbox.pk])[0] != (
        "hunter2-secret"
    )
    assert loaded.smtp_password == "hunter2-secret"
    assert_same_as_orm(loaded, Inbox)


def test_outer_join_that_finds_nothing_gives_none():
    """A message without an inbox loads with None for the Inbox."""
    sent = message(inbox=None)

    loaded, inbox = load_message(sent.pk)

    assert loaded.pk == sent.pk
    assert inbox is None


def test_loaded_instances_save_like_orm_ones():
    """Instances come out as saved rows of the default database, and
    `save(update_fields=...)` writes to that row."""
    sent = message(subject="Before")

    loaded, _ = load_message(sent.pk)
    assert loaded._state.adding is False
    assert loaded._state.db == "default"
    loaded.subject = "After"
    loaded.save(update_fields=["subject"])

    assert EmailMessage.objects.get(pk=sent.pk).subject == "After"
    assert EmailMessage.objects.count() == 1


def test_execute_returns_the_rows_it_touched():
    """`execute` reports how many rows the statement changed."""
    first, second, _ = ProspectFactory.create_batch(3, score=0)

    touched = execute(
        "UPDATE crm_prospect SET score = 7 WHERE id = ANY(%s)", [[first.pk, second.pk]]
    )

    assert touched == 2
    assert execute("UPDATE crm_prospect SET score = 7 WHERE id = %s", [-1]) == 0
    assert sorted(Prospect.objects.values_list("score", flat=True)) == [0, 7, 7]


def test_urlconf_preload_populates_the_resolver():
    """The broker's configured preload leaves a freshly built resolver populated."""
    clear_url_caches()
    assert get_resolver()._populated is False
    broker = dramatiq.get_broker()
    preload = next(m for m in broker.middleware if isinstance(m, UrlconfPreload))

    preload.after_worker_boot(broker, dramatiq.Worker(broker))

    assert get_resolver()._populated is True


def test_related_rows_are_attached_as_select_related_attaches_them(django_assert_num_queries):
    """`instance_with_related` hangs each related row on its foreign key, so reading
    it costs no query; an outer join that found nothing leaves the relation None."""
    inbox = InboxFactory()
    with_inbox, without = message(inbox=inbox, subject="a"), message(subject="b")
    sql = f"""
        SELECT {columns((EmailMessage, "m"), (Inbox, "i"))} FROM outreach_emailmessage m
        LEFT JOIN crm_inbox i ON i.id = m.inbox_id WHERE m.id = %s
    """  # noqa: S608 - columns from the models

    loaded = instance_with_related(fetch_row(sql, [with_inbox.pk]), EmailMessage, inbox=Inbox)
    alone = instance_with_related(fetch_row(sql, [without.pk]), EmailMessage, inbox=Inbox)

    with django_assert_num_queries(0):
        assert loaded.inbox.email == inbox.email
        assert alone.inbox is None
