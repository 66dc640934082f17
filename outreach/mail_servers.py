"""SMTP and IMAP connections to inbox mail servers, refused on private addresses.

A mail host is checked when it is saved (`crm.inbox_services.mail_host_check`), but a
name can be pointed at `127.0.0.1:6379` or `10.0.0.5` afterwards, and a row can be
written without the form. So every connection resolves the host itself, checks the
addresses against `mail_host_policy()` and connects to the address it checked; TLS
still verifies the certificate against the host name.
"""

from __future__ import annotations

import imaplib
import smtplib
import socket

from django.core.mail.backends.smtp import EmailBackend

from crm.inbox_services import mail_host_policy
from crm.models import Inbox
from jengu.dns import get_resolver
from jengu.netguard import FetchError, resolve_allowed


class MailHostRefused(ConnectionRefusedError):
    """The mail host resolves to an address the policy refuses (or does not resolve)."""


def checked_address(host: str) -> str:
    try:
        return resolve_allowed(host, resolver=get_resolver(), policy=mail_host_policy())[0]
    except FetchError as exc:
        raise MailHostRefused(f"mail host {host}: {exc.detail or exc.reason}") from None


class GuardedSMTP(smtplib.SMTP):
    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        return super()._get_socket(checked_address(host), port, timeout)


class GuardedSMTP_SSL(smtplib.SMTP_SSL, GuardedSMTP):  # noqa: N801 - smtplib's spelling
    """SMTP_SSL's socket comes from GuardedSMTP (next in line) and is wrapped for the name."""


class GuardedSMTPBackend(EmailBackend):
    """Django's SMTP backend on guarded connections."""

    @property
    def connection_class(self) -> type[smtplib.SMTP]:
        return GuardedSMTP_SSL if self.use_ssl else GuardedSMTP


def _guarded_socket(client: imaplib.IMAP4, timeout: float | None) -> socket.socket:
    address = (checked_address(client.host), client.port)
    return socket.create_connection(address, timeout)


class GuardedIMAP4(imaplib.IMAP4):
    def _create_socket(self, timeout: float | None) -> socket.socket:
        return _guarded_socket(self, timeout)


class GuardedIMAP4_SSL(imaplib.IMAP4_SSL):  # noqa: N801 - imaplib's spelling
    def _create_socket(self, timeout: float | None) -> socket.socket:
        return self.ssl_context.wrap_socket(
            _guarded_socket(self, timeout), server_hostname=self.host
        )


def imap_open(inbox: Inbox, *, timeout: float) -> imaplib.IMAP4:
    """A connection to the inbox's IMAP server, TLS as the inbox says, not yet logged in."""
    if inbox.imap_security == Inbox.Security.TLS:
        return GuardedIMAP4_SSL(inbox.imap_host, inbox.imap_port, timeout=timeout)
    client = GuardedIMAP4(inbox.imap_host, inbox.imap_port, timeout=timeout)
    if inbox.imap_security == Inbox.Security.STARTTLS:
        client.starttls()
    return client
