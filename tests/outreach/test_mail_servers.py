"""Inbox mail servers are checked at every connection, not only when they are saved:
a name re-pointed at a private address afterwards is refused before any byte is sent."""

from __future__ import annotations

import pytest
from django.core.mail import EmailMessage

from jengu.dns import StaticResolver
from outreach.mail_servers import MailHostRefused, imap_open
from outreach.sending.transport import smtp_backend
from tests.factories import InboxFactory
from tests.fakes.imap import FakeImapServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def mail_names(settings):
    """`mail.jengu.test` resolves (only through our resolver) to the loopback fakes."""
    settings.ENRICHMENT_DNS_RESOLVER = StaticResolver({"mail.jengu.test": ["127.0.0.1"]})
    return settings


@pytest.fixture
def imap_server():
    server = FakeImapServer(username="sales@jengu.test", password="pw").start()
    yield server
    server.stop()


def _send(inbox) -> None:
    message = EmailMessage("Hi", "Hello", inbox.email, ["guest@hotel.example"])
    with smtp_backend(inbox) as connection:
        connection.send_messages([message])


def test_smtp_connects_to_the_address_it_checked(mail_names, smtp_sink) -> None:
    inbox = InboxFactory(smtp_host="mail.jengu.test", smtp_port=smtp_sink.port)
    _send(inbox)
    assert len(smtp_sink.messages) == 1


def test_smtp_to_a_name_re_pointed_at_a_private_address_is_refused(mail_names, smtp_sink) -> None:
    inbox = InboxFactory(smtp_host="mail.jengu.test", smtp_port=smtp_sink.port)
    mail_names.MAIL_HOSTS_ALLOWED_NETWORKS = []  # production's default

    with pytest.raises(MailHostRefused, match="non-public 127.0.0.1"):
        _send(inbox)
    assert smtp_sink.messages == []


def test_imap_to_a_private_address_is_refused(mail_names, imap_server) -> None:
    inbox = InboxFactory(
        imap_host="mail.jengu.test", imap_port=imap_server.port, imap_security="none"
    )
    imap_open(inbox, timeout=5).logout()  # allowed: the loopback network is listed

    mail_names.MAIL_HOSTS_ALLOWED_NETWORKS = []
    with pytest.raises(MailHostRefused):
        imap_open(inbox, timeout=5)
