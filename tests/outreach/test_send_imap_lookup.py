"""Uncertain sends are looked up by Message-ID in the inbox's Sent folder over IMAP (a
real IMAP server on loopback): found means sent; not found or no answer leaves the
message uncertain for an operator, never resent."""

import pytest

from crm.models import Enrollment, Inbox
from outreach.models import EmailMessage
from outreach.sending.imap_lookup import sent_folder_has
from outreach.sending.services import message_send
from outreach.sending.sweeper import stuck_work_sweep
from tests.fakes.imap import fake_imap  # noqa: F401 - fixture
from tests.outreach.sending_fixtures import (
    make_campaign,
    make_enrollment,
    make_inbox,
    queue_message,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("sending_settings")]
Status = EmailMessage.Status


@pytest.fixture
def uncertain(smtp_sink, fake_imap):  # noqa: F811
    """A message cut during DATA from an inbox whose IMAP is the loopback fake."""
    inbox = make_inbox(
        smtp_sink,
        imap_host="127.0.0.1",
        imap_port=fake_imap.port,
        imap_security=Inbox.Security.NONE,
        imap_username=fake_imap.username,
        imap_password=fake_imap.password,
        imap_sent_folder="Sent",
    )
    message = queue_message(make_enrollment(make_campaign([inbox], steps=(0, 2))))
    smtp_sink.drop_during_data = True
    assert message_send(message=message).status == "uncertain"
    smtp_sink.drop_during_data = False
    message.refresh_from_db()
    return message


def file_in_sent(fake_imap, smtp_sink) -> None:  # noqa: F811
    """What the provider does with an accepted e-mail: a copy lands in Sent."""
    fake_imap.add("Sent", b"Message-ID: <someone-else@jengu.example>\r\n\r\nother\r\n")
    fake_imap.add("Sent", smtp_sink.messages[-1].message.as_bytes())


def test_found_in_the_sent_folder_means_sent(uncertain, fake_imap, smtp_sink):  # noqa: F811
    file_in_sent(fake_imap, smtp_sink)

    report = stuck_work_sweep()

    uncertain.refresh_from_db()
    assert report.resolved_sent == [uncertain.pk] and report.left_for_operator == []
    assert uncertain.status == Status.SENT and uncertain.resolved_by == "imap:Sent"
    assert Enrollment.objects.get(pk=uncertain.enrollment_id).current_step == 2
    assert "EXAMINE" in fake_imap.commands and "SEARCH" in fake_imap.commands  # read-only
    assert smtp_sink.count() == 1


def test_not_in_the_sent_folder_stays_uncertain_for_an_operator(uncertain, fake_imap, smtp_sink):  # noqa: F811
    fake_imap.add("Sent", b"Message-ID: <someone-else@jengu.example>\r\n\r\nother\r\n")

    report = stuck_work_sweep()

    uncertain.refresh_from_db()
    assert report.left_for_operator == [uncertain.pk] and report.resolved_sent == []
    assert uncertain.status == Status.UNCERTAIN and uncertain.resolved_by == ""
    assert smtp_sink.count() == 1  # not resent


@pytest.mark.parametrize("trouble", ["server down", "wrong password", "no Sent folder"])
def test_imap_trouble_leaves_it_uncertain(uncertain, fake_imap, smtp_sink, trouble):  # noqa: F811
    file_in_sent(fake_imap, smtp_sink)
    if trouble == "server down":
        fake_imap.stop()
    elif trouble == "wrong password":
        Inbox.objects.filter(pk=uncertain.inbox_id).update(imap_password="stale")
    else:
        fake_imap.fail_select = True

    report = stuck_work_sweep()

    uncertain.refresh_from_db()
    assert report.left_for_operator == [uncertain.pk]
    assert uncertain.status == Status.UNCERTAIN and smtp_sink.count() == 1


def test_the_lookup_answers_by_message_id(uncertain, fake_imap):  # noqa: F811
    inbox = uncertain.inbox
    fake_imap.add("Sent", f"Message-ID: {uncertain.message_id}\r\n\r\nbody\r\n".encode())

    assert sent_folder_has(inbox=inbox, message_id=uncertain.message_id)
    assert not sent_folder_has(inbox=inbox, message_id="<nothing-like-it@jengu.example>")
    assert not sent_folder_has(inbox=inbox, message_id="")
